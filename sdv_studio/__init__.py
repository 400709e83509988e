"""SDV Studio: package Python vehicle apps and deploy them to SDV devices."""

__version__ = "0.1.0"

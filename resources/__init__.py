"""sdv_studio.resources once installed (setup.py maps this folder): icons and VSS catalogues.

Read through sdv_studio.shipped."""

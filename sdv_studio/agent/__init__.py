"""The device agent: runs on devices, stdlib only, Python 3.8+."""

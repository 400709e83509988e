"""The Qt-free core the GUI, CLI and REST API share."""

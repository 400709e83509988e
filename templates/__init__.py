"""sdv_studio.templates once installed (setup.py maps this folder): the files the packager adds to an app,
read through sdv_studio.shipped. They run on devices, not here: nothing imports them."""

"""Hand-off from a web page (the digital.auto playground) to the desktop app: what a request may
carry, which pages may send one, ``sdv-studio://`` links, and the loopback HTTP endpoint.

Nothing here changes anything by itself: a hand-off is delivered to the app, which asks its user.
"""

"""The wizard's pages, one module each, in the order of the guide's steps."""

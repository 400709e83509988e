"""The device rig: real sshd, podman and mDNS in network namespaces on a private bridge."""

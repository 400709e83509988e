"""Handing a deployment to another tool: ``ansible.export_ansible`` writes an Ansible inventory and
playbook that deploy a package through the same device agent as SDV Studio's own engine."""

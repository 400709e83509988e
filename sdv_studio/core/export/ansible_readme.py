"""The README.md of an Ansible export: how to run it, and what it holds of KUKSA security: the
public key SDV Studio's databroker verifies tokens with, and the app's token, a secret to encrypt."""

from __future__ import annotations

from datetime import datetime

from sdv_studio.core.export.ansible_credentials import CREDENTIALS


def readme(title: str, token_expires: datetime | None, token_given: bool, not_enforced: list[str]) -> str:
    if token_given:
        token = "the token given with `--broker-token-file`, passed to the app as it is (its expiry is its issuer's)"
    elif token_expires is not None:
        token = (f"a token minted for the app by this workstation's key, scoped by the package's `dataAccess`; "
                 f"it expires {token_expires:%Y-%m-%d %H:%M:%S} UTC (the latest a 32-bit `exp` can say): export "
                 "again before then")
    else:
        token = "no token: the app's databroker is not SDV Studio's and none was given (`--broker-token-file`)"
    shortfalls = "".join(f"- {line}\n" for line in not_enforced)
    unenforced = f"\nWhat the package's data access asks that this export does not enforce:\n{shortfalls}" \
        if shortfalls else ""
    return f"""# {title} with Ansible

Written by `sdv-studio export ansible`: the deployment `sdv-studio deploy` makes, through SDV
Studio's device agent. Run it from this folder with ansible-core:

    ansible-playbook -i inventory.yml deploy.yml

## The databroker's credentials

SDV Studio's databroker, where the playbook starts it on a device, verifies tokens with the public
half of this workstation's signing key (`files/broker/auth/`, uploaded to the agent's
`uploads/broker-auth/` and given as `--jwt-public-key`). One an earlier deployment from this
workstation started is kept; one started with another key, or none, is restarted with this one.

`{CREDENTIALS}` (mode 0600) holds {token}. It is a secret: whoever has it reads and writes what it
allows. Encrypt it before the folder leaves this computer, and give the password when you run:

    ansible-vault encrypt {CREDENTIALS}
    ansible-playbook -i inventory.yml deploy.yml --ask-vault-pass   # or --vault-password-file FILE
{unenforced}"""

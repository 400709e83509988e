"""The README.md of an Ansible export: how to run it, and what it holds of KUKSA security: the
public key SDV Studio's databroker verifies tokens with, and the app's token, a secret to encrypt."""

from __future__ import annotations

from sdv_studio.core.export.ansible_credentials import CREDENTIALS
from sdv_studio.core.export.ansible_files import Payload

_KEY = """SDV Studio's databroker, where the playbook starts it on a device, verifies tokens with the public
half of this workstation's signing key (`files/broker/auth/`, uploaded to the agent's
`uploads/broker-auth/` and given as `--jwt-public-key`). One an earlier deployment from this
workstation started is kept; one started with another key, or none, is restarted with this one.

"""


def readme(title: str, shipped: Payload) -> str:
    kuksa = shipped.variables["sdv_kuksa"]
    if kuksa["tokenGiven"]:
        token = "the token given with `--broker-token-file`, passed to the app as it is (its expiry is its issuer's)"
    elif shipped.token_expires is not None:
        token = (f"the app's token, minted by this workstation's key and scoped by the package's `dataAccess`; it "
                 f"expires {shipped.token_expires:%Y-%m-%d %H:%M:%S} UTC (the latest a 32-bit `exp` can say): "
                 "export again before then")
    else:
        token = None
    if token is None:
        credentials = (f"`{CREDENTIALS}` holds no token: the app's databroker is not SDV Studio's and none was "
                       "given (`--broker-token-file`).\n")
    else:
        credentials = f"""`{CREDENTIALS}` (mode 0600) holds {token}. It is a secret: whoever has it
reads and writes what it allows. Encrypt it before the folder leaves this computer, and give the
password when you run the playbook:

    ansible-vault encrypt {CREDENTIALS}
    ansible-playbook -i inventory.yml deploy.yml --ask-vault-pass   # or --vault-password-file FILE
"""
    shortfalls = "".join(f"- {line}\n" for line in shipped.not_enforced)
    unenforced = f"\nWhat the package's data access asks that this export does not enforce:\n{shortfalls}" \
        if shortfalls else ""
    return f"""# {title} with Ansible

Written by `sdv-studio export ansible`: the deployment `sdv-studio deploy` makes, through SDV
Studio's device agent. Run it from this folder with ansible-core:

    ansible-playbook -i inventory.yml deploy.yml

## The databroker's credentials

{_KEY if kuksa["key"] else ""}{credentials}{unenforced}"""

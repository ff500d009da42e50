"""The account service's client: reads $ACCOUNTS, and raises when the
service is not there (as on a machine a bundle is sent to)."""
import json
import os


def fetch_state(account):
    path = os.environ.get("ACCOUNTS", "")
    if not os.path.exists(path):
        raise RuntimeError("the account service is unreachable: a real tool was called")
    return json.load(open(path))[account]

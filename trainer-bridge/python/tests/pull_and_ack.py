"""Driven by trainer-bridge/python-client.test.ts: pulls batches from a farm with the Python
client over real gRPC and reports what it saw as JSON lines on stdout.

argv: address count [--token T] [--no-ack-last] [--ca FILE] [--update-version V --lora PATH]
"""

import argparse
import hashlib
import json
import sys

from sandfarm_bridge import BridgeClient, BridgeError


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("count", type=int)
    parser.add_argument("--token")
    parser.add_argument("--ca")
    parser.add_argument("--no-ack-last", action="store_true")
    parser.add_argument("--update-version", type=int)
    parser.add_argument("--lora")
    args = parser.parse_args()
    tls = {"ca": open(args.ca, "rb").read(), "server_name": "localhost"} if args.ca else None
    client = BridgeClient(args.address, token=args.token or "", tls=tls)
    try:
        if args.update_version is not None:
            steps = [client.begin_policy_update(args.update_version, "keep")]
            steps.append(client.load_lora_adapter(args.update_version, "policy", args.lora))
            steps.append(client.commit_policy_update(args.update_version))
            for step in steps:
                print(json.dumps({"update": step.paused, "committed": step.committed_version}))
        stream = client.pull(credits=2)
        seen = 0
        for batch in stream:
            seen += 1
            last = seen == args.count
            print(
                json.dumps(
                    {
                        "batch_id": batch.batch_id,
                        "sequence": batch.sequence,
                        "rows": batch.header.rows,
                        "attempt": batch.header.attempt,
                        "bytes": len(batch.data),
                        "sha256": hashlib.sha256(batch.data).hexdigest(),
                    }
                ),
                flush=True,
            )
            if not (last and args.no_ack_last):
                # The step's metrics ride on the ack: the batch's sequence, so each is told apart.
                batch.ack(metrics={"loss": 0.25 + batch.sequence, "grad_norm": 1.5})
            if last:
                break
        stream.close()
        status = client.status()
        print(json.dumps({"status": {"acked": status.acked_batches, "run_id": status.run_id}}))
        return 0
    except BridgeError as error:
        print(json.dumps({"error": error.code.name, "message": str(error)}), flush=True)
        return 3
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())

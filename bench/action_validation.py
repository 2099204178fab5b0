"""Cost of validating one custom-action response in the Rasa server, before and after bot/rasa_patches.py.

    python -m bench.action_validation [--calls 2000]

Rasa 3.6's ``RemoteAction._validate_action_result`` runs ``jsonschema.validate``,
which checks the schema itself against the meta-schema on every call; the
patch builds the validator once. Prints microseconds per call for a typical
response of action_check_order_status (slots + two messages).
"""
from __future__ import annotations

import argparse
import time

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bench.common import machine, print_table, write_result

RESPONSE = {
    "events": [{"event": "slot", "name": "order_id", "value": "3829104857263541", "timestamp": None},
               {"event": "slot", "name": "verified", "value": True, "timestamp": None}],
    "responses": [{"text": "亲，您的订单已发货，顺丰 SF1402938475610，预计明天送达~", "buttons": [], "elements": [],
                   "custom": {}, "template": None, "response": None, "image": None, "attachment": None}],
}


def per_call_us(fn, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn(RESPONSE)
    return (time.perf_counter() - started) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    schema = RemoteAction.action_response_format_spec()
    rasa_way = per_call_us(lambda r: jsonschema.validate(r, schema), args.calls)

    from bot import rasa_patches

    rasa_patches.install()
    action = RemoteAction("action_check_order_status", EndpointConfig("http://127.0.0.1:1/webhook"))
    patched = per_call_us(action._validate_action_result, args.calls)
    result = {"machine": machine(), "calls": args.calls, "rasa_3_6_us": round(rasa_way, 1),
              "patched_us": round(patched, 1), "speedup": round(rasa_way / patched, 1)}
    write_result("action_validation", result)
    print_table(["validation", "µs per action call"], [["Rasa 3.6 (jsonschema.validate)", result["rasa_3_6_us"]],
                                                       ["cached validator (bot/rasa_patches.py)", result["patched_us"]]])
    print(f"speed-up x{result['speedup']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

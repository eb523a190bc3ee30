"""schemathesis hooks for the API fuzzer (named in schemathesis.toml).

- A client sends a fresh `Idempotency-Key` for each new request and reuses it only to
  retry that same request. The fuzzer draws keys from a small space, so two different
  generated requests would share one and be refused with a 422 (correctly: the key was
  used for a different request). A well-formed key is therefore made unique per generated
  request; a malformed one is left as drawn, so its 400 is still exercised.
- A new case must name a partnership that exists, which no schema can say. When
  `FUZZ_PARTNERSHIP` names one (tests/test_fuzz.py sets it), half the generated new cases
  use it, so cases get created and the stateful phase can follow the links from them into
  every operation on a case.
"""

from __future__ import annotations

import os
import re
import uuid
import zlib
from typing import Any

import schemathesis

_WELL_FORMED = re.compile(r"[\x20-\x7e]{1,255}")


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    # `map_case` runs for every generated case, in every phase (unlike `map_headers`).
    headers = case.headers
    if headers:
        for name, value in list(headers.items()):
            well_formed = isinstance(value, str) and _WELL_FORMED.fullmatch(value.strip())
            if name.lower() == "idempotency-key" and well_formed:
                headers[name] = f"fuzz-{uuid.uuid4()}"
    partnership = os.environ.get("FUZZ_PARTNERSHIP")
    body = case.body
    mode = getattr(getattr(case.meta, "generation", None), "mode", None)
    if (
        partnership
        and mode == "positive"  # a negative case keeps the flaw it was drawn with
        and case.operation.method.upper() == "POST"
        and case.operation.path == "/cases"
        and isinstance(body, dict)
        and "partnership" in body
        and isinstance(body.get("reference"), str)
        and zlib.crc32(body["reference"].encode("utf-8", "replace")) % 2 == 0
    ):
        body["partnership"] = partnership
    return case

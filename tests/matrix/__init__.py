"""The route matrices: security sweeps generated from `app.routes` (reliability.md §3
API1/3/5/8/9; §7 scenarios 2, 5, 15, 16, 17 and 23).

Every sweep walks the app's own route table, so a route added later is swept automatically.
Where a sweep needs to know something about a route (who may call it, what body it takes,
what its path parameters name), it looks it up in the tables of the domains and fails by
name when the route is missing from them.

* `tables.py`: the shapes a domain's table is written in (`DomainTable`, `Edge`, `Call`).
* `domains/`: one module per domain (`cases.py`, `partnerships.py`), each defining
  `TABLE = DomainTable(...)` with its rows. `core.py` imports every module it finds there,
  so a new domain adds its rows in one new module and nothing else.
* `core.py`: the machinery, which knows no domain: the route table (`Endpoint`,
  `endpoints`), the permission table read from the domains' rows, sample requests, the
  problem checks, table snapshots, and the merged domain tables.
* `world.py`: the `world` fixture (partnerships, keys and cases made through the API).

The tests themselves are `tests/test_matrix_access.py` (the allow-list, BFLA, BOLA),
`tests/test_matrix_inputs.py` (mass assignment, the error sweep, edge values) and
`tests/test_matrix_final_states.py` (final states refuse every event).
"""

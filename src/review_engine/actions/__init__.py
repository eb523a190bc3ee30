"""Learning into practice: the recommendations of reviews, the actions that answer them,
their evidence and assurance. The rules an action's status and rating obey are pure
(`rules.py`); tables, API shapes, the operations and the routes sit beside them."""

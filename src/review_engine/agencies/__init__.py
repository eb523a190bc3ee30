"""The agencies of a partnership (police, health, councils, schools): who leads an action
and who is asked for a contribution to a review."""

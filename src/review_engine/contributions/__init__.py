"""Agency contributions to a rapid review or review: each agency involved is asked for its
chronology and summary by a date, and chased when it is late."""

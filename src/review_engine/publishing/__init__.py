"""Publishing: the index of published reviews, their archiving, and the public feed."""

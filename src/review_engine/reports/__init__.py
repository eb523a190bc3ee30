"""Reports from the data: the partnership's yearly figures on case reviews."""

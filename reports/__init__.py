"""Reports over the results store: tables of every checkpoint's scores and paired comparisons between them."""

"""Who may touch which gallery: callers named by what API Gateway authenticated (:mod:`.principal`), the
operation classes (:mod:`.classes`) and the ``FRS_ACCESS_POLICY`` rules that decide (:mod:`.policy`)."""

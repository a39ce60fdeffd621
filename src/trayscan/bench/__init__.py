"""`trayscan bench`: latency, throughput and memory of the pipeline, the HTTP service and the gallery."""

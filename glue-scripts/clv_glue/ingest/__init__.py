"""Daily batch ingestion of the transactional landing files (and the customers extract) into silver."""

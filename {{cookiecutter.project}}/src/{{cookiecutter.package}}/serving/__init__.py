"""The prediction service behind `mlops serve`: FastAPI on uvicorn, on the champion's model folder.

``schema`` turns the column specs `mlops validate` checks into the request model (and so the
OpenAPI page) and the rows into a frame typed as validated data is; ``scoring`` holds the loaded
models, the release policy and the micro-batcher that calls ``jobs.steps.predict``, the one
prediction function of evaluation, monitoring and batch scoring; ``prediction_log`` writes the
sampled JSONL that `mlops drift` reads; ``app`` is the HTTP surface.
"""

"""The HTTP layer: a FastAPI app factory over the qa_service engine."""

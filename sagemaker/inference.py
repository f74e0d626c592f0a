"""SageMaker Batch Transform entry point (script mode): the handler functions live in clv_model.serving."""

from clv_model.serving import input_fn, model_fn, output_fn, predict_fn

__all__ = ["model_fn", "input_fn", "predict_fn", "output_fn"]

"""Parallel population evaluation: only configs and genomes travel to workers."""

from .evaluator import (BACKENDS, Evaluator, cached_problem, clear_cache, evaluate_chunk,
                        remember_problem, report_chunk)

__all__ = ["BACKENDS", "Evaluator", "cached_problem", "clear_cache", "evaluate_chunk",
           "remember_problem", "report_chunk"]

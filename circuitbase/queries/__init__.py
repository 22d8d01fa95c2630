"""Cypher query templates (one `.cypher` file each) and the registry that runs them."""

from .registry import Param, Template, TemplateError, get_template, load_templates, run_template

__all__ = ["Param", "Template", "TemplateError", "get_template", "load_templates", "run_template"]

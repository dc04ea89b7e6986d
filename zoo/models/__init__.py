"""Model families, one module each; the registry (zoo/registry.py) names their builders."""

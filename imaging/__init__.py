"""The image pipelines and what they share, as plain Python.

Nothing here imports Django or Celery: the web app's tasks call into this
package, and benchmarks, tools and tests use it directly.
"""

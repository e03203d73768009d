"""Build hook for the optional native scanner cores (PAN candidates, printable runs) (everything else is in pyproject.toml).

The extension is optional: when it cannot be compiled, installation goes on and
``vault.pii`` uses its pure-Python path (same findings, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vault.pii._fastscan",
            sources=["vault/pii/_fastscan.c"],
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        ),
        Extension(
            "vault.pii._runs",
            sources=["vault/pii/_runs.c"],
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        ),
    ]
)

"""Map the three top-level folders onto the ``peacewatch.*`` import names.

``common/``, ``mobile/`` and ``server/`` install as ``peacewatch.common``,
``peacewatch.mobile`` and ``peacewatch.server`` so nothing collides with another
distribution's ``common`` package. Sub-packages are found, not listed, so a new
folder with an ``__init__.py`` cannot be forgotten.
"""

from setuptools import find_packages, setup

ROOTS = ("common", "mobile", "server")

packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    packages.append(f"peacewatch.{root}")
    package_dir[f"peacewatch.{root}"] = root
    packages += [f"peacewatch.{root}.{sub}" for sub in find_packages(root)]

setup(packages=packages, package_dir=package_dir)

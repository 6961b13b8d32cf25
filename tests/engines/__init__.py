"""Container tests against real Docker and Podman (a package, so that its conftest is not
imported as `conftest`, the name the other tests import the root conftest by)."""

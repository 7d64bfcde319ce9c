"""Trademark settings: sandbox zone files in the sandbox, none in production unless
configured, and production refuses the sandbox source or a source without its settings."""

from reseller.trademarks import settings


def test_the_sandbox_generates_zones_and_production_reads_none_by_default():
    sandbox = settings.load({}, sandbox=True, instance_dir="/srv/i")
    assert sandbox["TRADEMARK_ZONE_SOURCE"] == "sandbox"
    assert sandbox["TRADEMARK_ZONE_TLDS"] == ("com", "net", "org")
    assert sandbox["TRADEMARK_ZONE_DIR"] == "/srv/i/zones"
    production = settings.load({"TRADEMARK_ZONE_TLDS": " .COM, se ,"}, sandbox=False,
                               instance_dir="/srv/i")
    assert production["TRADEMARK_ZONE_SOURCE"] == "none"
    assert production["TRADEMARK_ZONE_TLDS"] == ("com", "se")
    assert settings.production_problems(production) == []


def test_production_refuses_what_cannot_work():
    def problems(**env):
        return settings.production_problems(settings.load(env, sandbox=False, instance_dir="i"))

    assert "invents zone files" in problems(TRADEMARK_ZONE_SOURCE="sandbox")[0]
    assert "CZDS_USERNAME" in problems(TRADEMARK_ZONE_SOURCE="czds")[0]
    assert problems(TRADEMARK_ZONE_SOURCE="czds", CZDS_USERNAME="u", CZDS_PASSWORD="p") == []
    assert "TRADEMARK_ZONE_FILES" in problems(TRADEMARK_ZONE_SOURCE="directory")[0]
    assert "must be one of" in problems(TRADEMARK_ZONE_SOURCE="ftp")[0]

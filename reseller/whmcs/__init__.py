"""The WHMCS registrar-module endpoint ``/whmcs/v1/<Function>`` over the domain services."""

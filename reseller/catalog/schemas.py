"""API schemas for the catalogue: TLD rules with the caller's prices; retail prices."""

from __future__ import annotations

from marshmallow import fields

from reseller.core.schemas import Amount, BaseSchema


class RulesOut(BaseSchema):
    registry = fields.String()
    min_period = fields.Integer()
    max_period = fields.Integer()
    min_label = fields.Integer()
    max_label = fields.Integer()
    idn = fields.Boolean()
    auth_code_for_transfer = fields.Boolean()
    grace_days = fields.Integer()
    redemption_days = fields.Integer()
    restore = fields.Boolean()
    transfer_lock_days = fields.Integer()
    delete_allowed = fields.Boolean()
    operations = fields.Method("_operations", metadata={"type": "array", "items": {"type": "string"}})

    def _operations(self, rules) -> list[str]:
        return [op for op in rules.operations if rules.offers(op)]


class TldOut(BaseSchema):
    tld = fields.Function(lambda item: item["rules"].tld, metadata={"type": "string"})
    rules = fields.Nested(RulesOut)
    currency = fields.String()
    price_list = fields.String()
    tier = fields.String()
    prices = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                         metadata={"description": "Net EUR; per year for register, renew "
                                   "and transfer"})
    retail = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))


class TldListOut(BaseSchema):
    """The whole catalogue (a handful of TLDs): one document, not a paged list."""

    tlds = fields.List(fields.Nested(TldOut))


class RetailPricesIn(BaseSchema):
    markup_percent = Amount(load_default=None, allow_none=True,
                            metadata={"description": "0–1000; applies where no fixed price"})
    prices = fields.Dict(keys=fields.String(),
                         values=fields.Dict(keys=fields.String(), values=Amount(allow_none=True)),
                         load_default=dict,
                         metadata={"description": '{"fi": {"register": "19.00"}}; null removes'})

"""API schemas for invoices and credit notes (amounts are decimal strings)."""

from marshmallow import fields, validate

from reseller.core.clock import clock
from reseller.core.schemas import Amount, BaseSchema
from wallet.invoices.periods import local_date


class InvoiceOut(BaseSchema):
    number = fields.String()
    kind = fields.String(metadata={"description": "invoice | credit_note"})
    date = fields.Date(attribute="issue_date")
    due_date = fields.Date()
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.Method("_status", metadata={"type": "string", "enum": ["paid", "open", "overdue", "credited"]})
    currency = fields.String()
    net_total = Amount()
    vat_total = Amount()
    total = Amount()
    paid_at = fields.DateTime(allow_none=True)

    def _status(self, invoice) -> str:
        return invoice.status_on(local_date(clock.now()))


class InvoiceListOut(BaseSchema):
    items = fields.List(fields.Nested(InvoiceOut))
    next = fields.String(allow_none=True)


class InvoiceLineOut(BaseSchema):
    position = fields.Integer()
    kind = fields.String(metadata={"description": "purchase | refund | interest | credit"})
    date = fields.Date(attribute="occurred_on")
    description = fields.String()
    domain = fields.String(allow_none=True)
    operation = fields.String(allow_none=True)
    period_years = fields.Integer(allow_none=True)
    net = Amount()
    vat_category = fields.String()
    vat_rate = fields.Function(lambda line: f"{line.vat_rate.normalize():f}",
                               metadata={"type": "string", "description": "percent, e.g. 25.5"})
    vat = Amount()


class StatedLineOut(BaseSchema):
    """One line as the invoice (PDF, e-invoice) states it: ``quantity × unit_price = net``."""

    kind = fields.String(metadata={"description": "purchase | refund | interest | credit"})
    operation = fields.String(allow_none=True)
    zone = fields.String(allow_none=True, metadata={"description": "the TLD, e.g. fi"})
    period_years = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True,
                                metadata={"description": "lines with no domain (interest)"})
    quantity = fields.Integer(metadata={"description": "negative for refunds and credits"})
    unit_price = Amount()
    net = Amount()
    vat_category = fields.String()
    vat_rate = fields.Function(lambda group: f"{group.vat_rate.normalize():f}",
                               metadata={"type": "string", "description": "percent"})
    vat = Amount()
    first_date = fields.Date(attribute="first_on")
    last_date = fields.Date(attribute="last_on")
    line_positions = fields.List(fields.Integer(), attribute="positions",
                                 metadata={"description": "the `lines` it groups"})


class VatGroupOut(BaseSchema):
    category = fields.String()
    rate = fields.String()
    net = fields.String()
    vat = fields.String()


class InvoiceDetailOut(InvoiceOut):
    reference = fields.String()
    rf_reference = fields.String()
    vat_status = fields.String()
    payment_mode = fields.String()
    amount_due = Amount()
    corrects = fields.Function(lambda invoice: invoice.corrects.number if invoice.corrects
                               else None, allow_none=True,
                               metadata={"type": "string", "description":
                                         "The number of the invoice a credit note corrects"})
    vat_breakdown = fields.List(fields.Nested(VatGroupOut))
    stated_lines = fields.List(fields.Nested(StatedLineOut), metadata={
        "description": "The lines as the PDF and the e-invoice state them: grouped by "
                       "operation, zone, period and unit price; they sum to `net_total`."})
    lines = fields.List(fields.Nested(InvoiceLineOut), metadata={
        "description": "Every line (the specification; also `GET /invoices/{number}.csv`)."})


class InvoicePaymentIn(BaseSchema):
    method = fields.String(required=True,
                           validate=validate.OneOf(("card", "paypal", "online_banking")))


class InvoicePaymentOut(BaseSchema):
    id = fields.Integer(required=True)
    invoice = fields.String(required=True)
    state = fields.String(required=True)
    method = fields.String(required=True)
    currency = fields.String(required=True)
    amount = Amount(required=True)
    surcharge = Amount(required=True)
    total = Amount(required=True)
    checkout_url = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    settled_at = fields.AwareDateTime(allow_none=True)

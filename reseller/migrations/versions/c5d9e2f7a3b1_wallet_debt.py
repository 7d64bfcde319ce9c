"""Wallet debt: money taken back after it was spent is owed on its own account
(``reseller.debt``), so prepaid funds never go below zero again (the check comes back)
and a hold is refused while a debt is open.

Revision ID: c5d9e2f7a3b1
Revises: c4f1a8e2b6d9
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'c5d9e2f7a3b1'
down_revision = 'c4f1a8e2b6d9'
branch_labels = None
depends_on = None

# wallet_hold (first defined in 7dd6a1d17221): the same function, refusing while a debt is
# open (``AND wallets.debt = 0``). ``DEBT_CLAUSE`` is all that differs between the two.
HOLD_FUNCTION = """CREATE OR REPLACE FUNCTION wallet_hold(p_reseller integer, p_reference text,
        p_net bigint, p_vat bigint, p_rate numeric, p_description text, p_item json,
        p_expires timestamptz, p_now timestamptz)
      RETURNS TABLE(outcome text, hold_id bigint, source text, payment_mode text,
                    funds bigint, receivable bigint, credit_limit bigint,
                    low_balance_threshold bigint, low_balance_alerted boolean)
      LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE w record; v_gross bigint := p_net + p_vat; v_id bigint; v_source text;
    BEGIN
      UPDATE wallets SET
          funds = CASE WHEN wallets.payment_mode = 'prepaid' THEN wallets.funds - v_gross
                       ELSE wallets.funds END,
          receivable = CASE WHEN wallets.payment_mode = 'prepaid' THEN wallets.receivable
                            ELSE wallets.receivable + v_gross END,
          held_on_credit = CASE WHEN wallets.payment_mode = 'prepaid' THEN wallets.held_on_credit
                                ELSE wallets.held_on_credit + v_gross END,
          held = wallets.held + v_gross
        WHERE wallets.reseller_id = p_reseller DEBT_CLAUSE
          AND ((wallets.payment_mode = 'prepaid' AND wallets.funds >= v_gross)
            OR (wallets.payment_mode <> 'prepaid'
                AND wallets.receivable + v_gross <= wallets.credit_limit))
        RETURNING wallets.* INTO w;
      IF NOT FOUND THEN
        SELECT h.id INTO v_id FROM wallet_holds h WHERE h.reference = p_reference;
        RETURN QUERY SELECT CASE WHEN v_id IS NULL THEN 'refused' ELSE 'existing' END, v_id,
          NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
          NULL::boolean;
        RETURN;
      END IF;
      v_source := CASE WHEN w.payment_mode = 'prepaid' THEN 'funds' ELSE 'receivable' END;
      INSERT INTO wallet_holds (reseller_id, reference, state, source, currency, net, vat,
          gross, vat_rate, description, item, created_at, expires_at)
        VALUES (p_reseller, p_reference, 'active', v_source, w.currency, p_net, p_vat,
          v_gross, p_rate, p_description, p_item, p_now, p_expires)
        ON CONFLICT (reference) DO NOTHING RETURNING id INTO v_id;
      IF v_id IS NULL THEN  -- a replay (perhaps concurrent): give the reservation back
        UPDATE wallets SET held = wallets.held - v_gross,
            funds = wallets.funds + CASE WHEN v_source = 'funds' THEN v_gross ELSE 0 END,
            receivable = wallets.receivable - CASE WHEN v_source = 'funds' THEN 0 ELSE v_gross END,
            held_on_credit = wallets.held_on_credit
                             - CASE WHEN v_source = 'funds' THEN 0 ELSE v_gross END
          WHERE wallets.reseller_id = p_reseller;
        SELECT h.id INTO v_id FROM wallet_holds h WHERE h.reference = p_reference;
        RETURN QUERY SELECT 'existing'::text, v_id, NULL::text, NULL::text, NULL::bigint,
          NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean;
        RETURN;
      END IF;
      INSERT INTO ledger_entries (transfer_reference, account, reseller_id, amount) VALUES
        ('hold:' || p_reference, 'reseller.' || v_source, p_reseller, v_gross),
        ('hold:' || p_reference, 'reseller.holds', p_reseller, -v_gross);
      INSERT INTO ledger_transfers (reference, kind, reseller_id, currency, description,
          created_at) VALUES ('hold:' || p_reference, 'hold', p_reseller, w.currency,
          p_description, p_now);
      RETURN QUERY SELECT 'held'::text, v_id, v_source, w.payment_mode::text, w.funds,
        w.receivable, w.credit_limit, w.low_balance_threshold, w.low_balance_alerted;
    END $$"""


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _move(reseller_id, cents, reference, description, to_debt):
    """One balanced ledger transfer between the reseller's funds and debt (cents > 0)."""
    bind = op.get_bind()
    sign = 1 if to_debt else -1  # to debt: credit funds (raw -), debit debt (raw +)
    for account, amount in (("reseller.funds", -sign * cents), ("reseller.debt", sign * cents)):
        bind.execute(sa.text(
            "INSERT INTO ledger_entries (transfer_reference, account, reseller_id, amount)"
            " VALUES (:ref, :account, :rid, :amount)"),
            {"ref": reference, "account": account, "rid": reseller_id, "amount": amount})
    bind.execute(sa.text(
        "INSERT INTO ledger_transfers (reference, kind, reseller_id, currency, description,"
        " created_at) VALUES (:ref, :kind, :rid, 'EUR', :description, CURRENT_TIMESTAMP)"),
        {"ref": reference, "kind": "debt", "rid": reseller_id,
         "description": description})


def upgrade():
    with op.batch_alter_table('wallets') as batch:
        batch.add_column(sa.Column('debt', sa.BigInteger(), nullable=False, server_default='0'))
    # Funds a reversal took below zero become debt, booked as a ledger transfer.
    bind = op.get_bind()
    for reseller_id, funds in bind.execute(sa.text(
            "SELECT reseller_id, funds FROM wallets"
            " WHERE payment_mode = 'prepaid' AND funds < 0")).all():
        _move(reseller_id, -funds, f"debt:{reseller_id}:migrated",
              "Negative funds booked as debt", to_debt=True)
        bind.execute(sa.text("UPDATE wallets SET funds = 0, debt = :debt"
                             " WHERE reseller_id = :rid"), {"debt": -funds, "rid": reseller_id})
    with op.batch_alter_table('wallets') as batch:
        batch.alter_column('debt', server_default=None)
        batch.create_check_constraint('prepaid_not_negative',
                                      "payment_mode = 'postpaid' OR funds >= 0")
        batch.create_check_constraint('debt_not_negative', "debt >= 0")
    if _postgresql():
        op.execute(HOLD_FUNCTION.replace("DEBT_CLAUSE", "AND wallets.debt = 0"))


def downgrade():
    if _postgresql():
        op.execute(HOLD_FUNCTION.replace("DEBT_CLAUSE", ""))
    with op.batch_alter_table('wallets') as batch:
        batch.drop_constraint(batch.f('ck_wallets_debt_not_negative'), type_='check')
        batch.drop_constraint(batch.f('ck_wallets_prepaid_not_negative'), type_='check')
    bind = op.get_bind()
    for reseller_id, debt in bind.execute(sa.text(
            "SELECT reseller_id, debt FROM wallets WHERE debt > 0")).all():
        _move(reseller_id, debt, f"debt:{reseller_id}:downgraded",
              "Debt booked back as negative funds", to_debt=False)
        bind.execute(sa.text("UPDATE wallets SET funds = funds - :debt, debt = 0"
                             " WHERE reseller_id = :rid"), {"debt": debt, "rid": reseller_id})
    with op.batch_alter_table('wallets') as batch:
        batch.drop_column('debt')

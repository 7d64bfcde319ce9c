"""Who may host a zone: zones are active or pending (waiting for proof of control), one
active zone per name. Existing zones that break the rules are resolved: the domain's
holder wins; the others (another account's domain, a public suffix, a name that cannot be
registered, a zone inside another account's zone, and a zone of an external name that was
never proven (``zone_unverified``) become pending with the reason, and the operator console
lists them. A pending external zone goes live again once its reseller proves control (TXT
or delegation; ``dns-verify-zones`` checks every 10 minutes). ``dns-repair-drift`` then
takes the unpublished zones and their ACME keys off the server (run ``flask jobs run
dns-repair-drift`` after upgrading).

Revision ID: 5e24c716de54
Revises: e5c2b9a7d3f1
Create Date: 2026-12-05
"""
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from publicsuffixlist import PublicSuffixList

import reseller.core.types

revision = '5e24c716de54'
down_revision = 'e5c2b9a7d3f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False,
                                      server_default='active'))
        batch_op.add_column(sa.Column('proof', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('verification_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('verified_at', reseller.core.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('last_check', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('unpublished_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('unpublished_at',
                                      reseller.core.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_constraint('uq_dns_zones_name', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_dns_zones_reseller_id_name'),
                                          ['reseller_id', 'name'])
        batch_op.create_check_constraint('status', "status IN ('active', 'pending')")
    resolve_existing_zones(op.get_bind())
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.alter_column('last_check', server_default=None)
        batch_op.create_index('uq_dns_zones_active_name', ['name'], unique=True,
                              sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))


def _above(name):
    labels = name.split('.')
    return ['.'.join(labels[i:]) for i in range(len(labels))]


def decide(zones, holders, psl):
    """``zones``: (id, reseller_id, name); ``holders``: live domain name -> reseller id.
    Returns {zone id: (proof, reason)}: reason None keeps the zone active."""
    decided = {}
    for zone_id, reseller_id, name in zones:
        held = [holders[n] for n in _above(name) if n in holders]
        if psl.is_public(name):
            decided[zone_id] = (None, 'public_suffix')
        elif held:
            decided[zone_id] = ('domain', None) if set(held) == {reseller_id} \
                else (None, 'zone_held_elsewhere')
        elif psl.privatesuffix(name, accept_unknown=False) is None:
            decided[zone_id] = (None, 'zone_not_allowed')
        else:
            decided[zone_id] = (None, 'zone_unverified')
    # An unproven zone inside another account's surviving zone (a held domain's): it loses.
    alive = {name: reseller_id for zone_id, reseller_id, name in zones
             if decided[zone_id][1] is None}
    for zone_id, reseller_id, name in zones:
        proof, reason = decided[zone_id]
        if reason == 'zone_unverified' and any(
                alive.get(outer) not in (None, reseller_id) for outer in _above(name)[1:]):
            decided[zone_id] = (None, 'zone_inside_other_zone')
    return decided


def resolve_existing_zones(bind):
    zones = [tuple(row) for row in bind.execute(sa.text(
        'SELECT id, reseller_id, name FROM dns_zones ORDER BY id'))]
    holders = dict(bind.execute(sa.text(
        'SELECT live_name, reseller_id FROM domains WHERE live_name IS NOT NULL')).all())
    now = datetime.now(UTC)
    stamp = sa.bindparam('now', type_=reseller.core.types.UTCDateTime())
    for zone_id, (proof, reason) in decide(zones, holders, PublicSuffixList()).items():
        if reason is None:
            bind.execute(sa.text("UPDATE dns_zones SET status = 'active', proof = :proof, "
                                 "verified_at = :now, verification_token = :token "
                                 "WHERE id = :id").bindparams(stamp),
                         {'proof': proof, 'now': now, 'token': secrets.token_urlsafe(24),
                          'id': zone_id})
        else:  # on_server stays true: dns-repair-drift takes it off the server
            bind.execute(sa.text("UPDATE dns_zones SET status = 'pending', proof = NULL, "
                                 "unpublished_reason = :reason, unpublished_at = :now, "
                                 "verification_token = :token WHERE id = :id")
                         .bindparams(stamp),
                         {'reason': reason, 'now': now, 'token': secrets.token_urlsafe(24),
                          'id': zone_id})


def downgrade():
    # Pending zones of a name another account hosts cannot keep a unique name.
    op.execute("DELETE FROM dns_zones WHERE status = 'pending' AND name IN "
               "(SELECT name FROM dns_zones GROUP BY name HAVING COUNT(*) > 1)")
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.drop_index('uq_dns_zones_active_name',
                            sqlite_where=sa.text("status = 'active'"),
                            postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_constraint(batch_op.f('ck_dns_zones_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_dns_zones_reseller_id_name'), type_='unique')
        batch_op.create_unique_constraint('uq_dns_zones_name', ['name'])
        for column in ('unpublished_at', 'unpublished_reason', 'last_check', 'verified_at',
                       'verification_token', 'proof', 'status'):
            batch_op.drop_column(column)

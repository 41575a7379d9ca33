"""The three answering tiers of the 117 service, lowest first."""

from enum import StrEnum


class Tier(StrEnum):
    KABKOTA = "kabkota"  # regency/city BPBD Pusdalops: the primary answering point
    PROVINCE = "province"  # provincial BPBD Pusdalops: first backup
    NATIONAL = "national"  # Pusdalops BNPB, Jakarta: last backup, never gives up on a call

    @property
    def above(self) -> "Tier | None":
        order = list(Tier)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None

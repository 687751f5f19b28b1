"""One module per entity type; each declares a FeatureSet (features, peers, SQL)."""

from fundwatch.detect.features import agency, cooperative, dibao, housing, subsidy

FEATURE_SETS = (
    dibao.FEATURE_SET,
    subsidy.FEATURE_SET,
    agency.FEATURE_SET,
    housing.FEATURE_SET,
    cooperative.FEATURE_SET,
)

__all__ = ["FEATURE_SETS"]

import pytest

from roleguard.policy.conditions import RequestContext, Truth, evaluate_condition, evaluate_conditions, parse_operator
from roleguard.policy.document import Condition

CTX = RequestContext.of(
    {"aws:SourceAccount": "111122223333", "aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/f1"},
    absent=("aws:SourceVpc",),
)


def cond(op, key, *values):
    return Condition(op, key, tuple(values))


@pytest.mark.parametrize(
    "condition, truth",
    [
        (cond("StringEquals", "aws:SourceAccount", "111122223333"), Truth.TRUE),
        (cond("StringEquals", "AWS:SOURCEACCOUNT", "111122223333"), Truth.TRUE),  # keys are case-insensitive
        (cond("StringEquals", "aws:SourceAccount", "your AWS account ID"), Truth.FALSE),
        (cond("StringEquals", "aws:SourceAccount", "444455556666", "111122223333"), Truth.TRUE),  # values OR'ed
        (cond("StringNotEquals", "aws:SourceAccount", "444455556666", "111122223333"), Truth.FALSE),
        (cond("StringNotEquals", "aws:SourceAccount", "444455556666"), Truth.TRUE),
        (cond("StringLike", "aws:SourceArn", "arn:aws:appstream:*:111122223333:fleet/*"), Truth.TRUE),
        (cond("StringLike", "aws:SourceArn", "arn:aws:appstream:*:111122223333:image-builder/*"), Truth.FALSE),
        (cond("StringEqualsIgnoreCase", "aws:SourceArn", "ARN:AWS:APPSTREAM:US-EAST-1:111122223333:FLEET/F1"), Truth.TRUE),
        (cond("ArnLike", "aws:SourceArn", "arn:aws:appstream:us-east-1:111122223333:*"), Truth.TRUE),
        (cond("ArnEquals", "aws:SourceArn", "arn:aws:appstream:us-east-1:111122223333:fleet/f?"), Truth.TRUE),
        (cond("ArnLike", "aws:SourceArn", "arn:aws:appstream:us-east-1:111122223333:fleet/F1"), Truth.FALSE),
        (cond("ArnNotLike", "aws:SourceArn", "arn:aws:appstream:*:*:fleet/*"), Truth.FALSE),
        # Absent keys: positive operators fail, negated ones and IfExists hold.
        (cond("StringEquals", "aws:SourceVpc", "vpc-1"), Truth.FALSE),
        (cond("StringNotEquals", "aws:SourceVpc", "vpc-1"), Truth.TRUE),
        (cond("StringEqualsIfExists", "aws:SourceVpc", "vpc-1"), Truth.TRUE),
        (cond("Null", "aws:SourceVpc", "true"), Truth.TRUE),
        (cond("Null", "aws:SourceAccount", "true"), Truth.FALSE),
        (cond("ForAllValues:StringEquals", "aws:SourceVpc", "vpc-1"), Truth.TRUE),
        (cond("ForAnyValue:StringEquals", "aws:SourceVpc", "vpc-1"), Truth.FALSE),
        # Unknown keys, operators and variables are never TRUE.
        (cond("StringEquals", "aws:PrincipalOrgID", "o-123"), Truth.UNKNOWN),
        (cond("StringNotEquals", "aws:PrincipalOrgID", "o-123"), Truth.UNKNOWN),
        (cond("StringWobbles", "aws:SourceAccount", "x"), Truth.UNKNOWN),
        (cond("StringEquals", "aws:SourceAccount", "${aws:PrincipalAccount}"), Truth.UNKNOWN),
        (cond("StringEquals", "aws:SourceArn", "arn:aws:appstream:us-east-1:${aws:SourceAccount}:fleet/f1"), Truth.TRUE),
    ],
)
def test_operator_semantics(condition, truth):
    outcome = evaluate_condition(condition, CTX)
    assert outcome.truth is truth, outcome.reasons
    if truth is not Truth.TRUE:
        assert outcome.reasons  # every non-TRUE answer says why


def test_conditions_are_anded_and_false_beats_unknown():
    both = (cond("StringEquals", "aws:SourceAccount", "111122223333"), cond("StringEquals", "aws:PrincipalOrgID", "o-1"))
    assert evaluate_conditions(both, CTX).truth is Truth.UNKNOWN
    with_false = both + (cond("StringEquals", "aws:SourceAccount", "999999999999"),)
    assert evaluate_conditions(with_false, CTX).truth is Truth.FALSE
    assert evaluate_conditions((), CTX).truth is Truth.TRUE


def test_operator_parsing():
    parsed = parse_operator("ForAnyValue:StringNotLikeIfExists")
    assert (parsed.base, parsed.qualifier, parsed.if_exists, parsed.negated) == ("stringnotlike", "foranyvalue", True, True)
    assert parse_operator("Null").negated is False
    assert parse_operator("Bogus") is None


def test_ip_numeric_and_date_operators_with_known_values():
    ctx = RequestContext.of({"aws:SourceIp": "10.1.2.3", "n": "5", "aws:CurrentTime": "2026-01-01T00:00:00Z"})
    assert evaluate_condition(cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"), ctx).truth is Truth.TRUE
    assert evaluate_condition(cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"), ctx).truth is Truth.FALSE
    assert evaluate_condition(cond("NumericLessThan", "n", "6"), ctx).truth is Truth.TRUE
    assert evaluate_condition(cond("NumericGreaterThan", "n", "6"), ctx).truth is Truth.FALSE
    assert evaluate_condition(cond("DateLessThan", "aws:CurrentTime", "2027-01-01T00:00:00Z"), ctx).truth is Truth.TRUE
    assert evaluate_condition(cond("NumericEquals", "n", "five"), ctx).truth is Truth.UNKNOWN


def test_literal_escapes_are_not_wildcards():
    ctx = RequestContext.of({"aws:SourceArn": "arn:aws:appstream:us-east-1:111122223333:fleet/my*"})
    assert evaluate_condition(cond("StringLike", "aws:SourceArn", "${*}"), CTX).truth is Truth.FALSE
    assert evaluate_condition(cond("StringLike", "aws:SourceArn", "arn:aws:appstream:us-east-1:111122223333:fleet/f${?}"), CTX).truth is Truth.FALSE
    assert evaluate_condition(cond("StringEquals", "aws:SourceArn", "arn:aws:appstream:us-east-1:111122223333:fleet/my${*}"), ctx).truth is Truth.TRUE


def test_variables_are_literal_text_without_version_2012():
    c = cond("StringEquals", "aws:SourceAccount", "${aws:SourceAccount}")
    assert evaluate_condition(c, CTX).truth is Truth.TRUE
    assert evaluate_condition(c, CTX, variables=False).truth is Truth.FALSE


def test_absurd_dates_are_unknown_not_crashes():
    assert evaluate_condition(cond("DateGreaterThan", "aws:SourceAccount", "99999999999999999999"), CTX).truth is Truth.UNKNOWN

import json

import pytest

from roleguard.policy.document import PolicyError, decode_policy, parse_policy
from tests.shared_inputs import case


def test_b09_every_encoding_decodes_exactly_once():
    data = case("B09")
    expected = data["expected"]["normalized_trust_policy_for_first_three"]
    for key in ("as_boto3_dict", "as_json_text", "as_url_encoded_text"):
        assert decode_policy(data["input"][key]) == expected, key


def test_b09_percent_sequences_inside_values_survive():
    data = case("B09")
    decoded = decode_policy(data["input"]["policy_with_literal_percent_sequences_wire_form"])
    assert decoded == data["expected"]["policy_with_literal_percent_sequences_decoded"]
    # Already-decoded JSON text holding %3A is never unquoted a second time.
    again = decode_policy(json.dumps(decoded))
    assert again["Statement"][0]["Resource"].endswith("arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fabc123")


def test_dict_is_never_unquoted():
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a%2Fb"}]}
    assert decode_policy(doc) is doc


def test_json_string_wrapping_json_is_unwrapped_once():
    inner = '{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}'
    assert decode_policy(json.dumps(inner))["Statement"]["Action"] == "s3:GetObject"


def test_b02_statement_object_is_one_statement():
    data = case("B02")["input"]
    for key in ("trust_policy", "inline_policy"):
        assert len(parse_policy(data[key]).statements) == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "empty"),
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"Version": "2012-10-17"}', "no Statement"),
        ('{"Statement": [{"Effect": "Maybe", "Action": "*"}]}', "Effect"),
        ('{"Statement": [{"Effect": "Allow"}]}', "neither Action nor NotAction"),
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}]}', "both Action and NotAction"),
        ('{"Statement": [{"Effect": "Allow", "Action": 5}]}', "string or a list"),
        ('{"Statement": ["x"]}', "not an object"),
        ('{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "x"}}]}', "object of keys"),
    ],
)
def test_bad_documents_get_one_line_errors(raw, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(raw)


def test_scalars_and_lists_normalise_to_tuples():
    policy = parse_policy(
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": ["a.amazonaws.com", "b.amazonaws.com"]},
                        "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:SecureTransport": True},
                                                                  "NumericLessThan": {"k": 5}}}]}
    )
    stmt = policy.statements[0]
    assert stmt.actions == ("sts:AssumeRole",)
    assert stmt.principal.values("service") == ("a.amazonaws.com", "b.amazonaws.com")
    assert [c.values for c in stmt.conditions] == [("true",), ("5",)]


def test_principal_star_and_aws_star_mean_everyone():
    assert parse_policy({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}).statements[0].principal.everyone
    aws_star = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "*"}]}
    assert parse_policy(aws_star).statements[0].principal.everyone


def test_undecodable_bytes_and_giant_numbers_are_policy_errors():
    with pytest.raises(PolicyError):
        decode_policy(b"\xff\xfe{")
    with pytest.raises(PolicyError):
        decode_policy('{"Statement": [], "X": ' + "9" * 5000 + "}")

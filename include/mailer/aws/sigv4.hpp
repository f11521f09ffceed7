#pragma once
// AWS Signature Version 4 as pure functions: no clock, no I/O, no curl. The
// SES client signs with them and mailer-fake-ses verifies with the same code.
//
// Specification: "Create a signed AWS API request", IAM User Guide,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv_create-signed-request.html
// Verified against the official AWS SigV4 test suite (shared/testdata/sigv4) and
// the SES-shaped derived vectors (shared/testdata/sigv4-ses-derived); their
// READMEs spell out the rules implemented here.
//
// Rules (non-S3 services, which includes SES):
//  * canonical URI: the path *as written on the wire* is normalised (RFC 3986
//    §5.2.4 dot segments, runs of '/' collapsed, trailing '/' kept) and then
//    URI-encoded once more, without decoding first: wire `user%40x` is signed
//    as `user%2540x` ("double encoding").
//  * canonical query: each name/value is decoded once, then encoded once, then
//    the pairs are sorted bytewise by name, then value. Not double-encoded.
//  * canonical headers: every header given is signed; names lower-cased,
//    values trimmed with inner runs of blanks collapsed, repeated names joined
//    with ',' in arrival order, entries sorted by name.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailer/crypto/crypto.hpp"

namespace mailer::aws {

inline constexpr std::string_view k_sigv4_algorithm = "AWS4-HMAC-SHA256";

using Header = std::pair<std::string, std::string>;  // name as sent, value as sent

/// The parts of an HTTP request that enter the signature.
struct SigningRequest {
  std::string method;           // "GET", "POST", ...
  std::string path;             // wire path, already percent-encoded, e.g. "/v2/email/account"
  std::string query;            // raw query without '?', may be empty
  std::vector<Header> headers;  // every header to sign, in arrival order (must include Host
                                // and X-Amz-Date; X-Amz-Security-Token when a token is used)
  std::string_view body;        // exact body bytes
};

/// Credential scope inputs. `amz_date` is ISO 8601 basic UTC, "20150830T123600Z";
/// the scope date is its first 8 characters.
struct SigningScope {
  std::string amz_date;
  std::string region;   // "us-east-1"
  std::string service;  // signing name: "ses" for SES v2
};

/// SigV4 UriEncode: bytes A-Z a-z 0-9 - . _ ~ stay, everything else becomes %XX
/// with upper-case hex; '/' stays only when `keep_slash`. Never '+' for space.
std::string uri_encode(std::string_view bytes, bool keep_slash);

/// Percent-decodes `text` once ("%41" -> "A"); a malformed escape is kept literally.
/// '+' is not treated as a space (SigV4 query values are RFC 3986, not HTML forms).
std::string uri_decode(std::string_view text);

/// Removes "." and ".." segments and collapses runs of '/'. Keeps a trailing
/// '/' when the input had one; empty result -> "/". Example: "//a/./b/../" -> "/a/".
std::string normalize_path(std::string_view path);

/// normalize_path, then uri_encode with '/' kept: the canonical URI line.
std::string canonical_uri(std::string_view wire_path);

/// The canonical query string line; "" when `raw_query` is empty.
/// Example: "b=2&a=%3A" -> "a=%3A&b=2".
std::string canonical_query(std::string_view raw_query);

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per entry, sorted by name
  std::string signed_headers;  // "host;x-amz-date"
};
CanonicalHeaders canonical_headers(const std::vector<Header>& headers);

/// The six-line canonical request (method, URI, query, headers block, signed
/// header list, hex SHA-256 of the body), as in the suite's .creq files.
std::string canonical_request(const SigningRequest& request);

/// "<yyyymmdd>/<region>/<service>/aws4_request".
std::string credential_scope(const SigningScope& scope);

/// The four-line string to sign (.sts): algorithm, amz_date, scope, hex SHA-256 of `creq`.
std::string string_to_sign(const SigningScope& scope, std::string_view creq);

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
crypto::Sha256Digest signing_key(std::string_view secret_access_key, const SigningScope& scope);

/// Everything a signature produces; `authorization` is the header value
/// "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<list>, Signature=<hex>".
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // 64 lowercase hex
  std::string signed_headers;
  std::string authorization;
};

/// Signs `request` as given (adds nothing to it).
Signature sign(const SigningRequest& request, const SigningScope& scope, std::string_view access_key_id,
               std::string_view secret_access_key);

/// `t` as "YYYYMMDDTHHMMSSZ" (UTC).
std::string format_amz_date(std::chrono::system_clock::time_point t);

/// Convenience for clients: appends X-Amz-Date (from `amz_date`), and
/// X-Amz-Security-Token when `session_token` is non-empty, to `headers`, signs
/// (the token is a signed header, as the SDKs do for SES), then appends the
/// Authorization header. `headers` must already contain Host.
void add_signature_headers(std::vector<Header>& headers, std::string_view method, std::string_view wire_path,
                           std::string_view raw_query, std::string_view body, const SigningScope& scope,
                           std::string_view access_key_id, std::string_view secret_access_key,
                           std::string_view session_token);

/// Parsed "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ses/aws4_request,
/// SignedHeaders=a;b, Signature=hex". `ok` is false when the value does not
/// have that shape.
struct ParsedAuthorization {
  bool ok = false;
  std::string access_key_id;
  std::string date;
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
ParsedAuthorization parse_authorization(std::string_view value);

}  // namespace mailer::aws

#pragma once
// The data rules' detectors of personal data, value by value: what `kind: data` rules register
// as SQL functions (mesh_looks_like_*) and run over the staged data of a deploy. Each one checks
// a format's structure and, where the format has one, its check digits, so that order numbers
// and other digit runs of the same length are not taken for personal data.

#include <string_view>

namespace meshwork::governance {

/// 13–19 digits (spaces and dashes between them allowed) passing the Luhn check.
bool LooksLikeCardNumber(std::string_view text);

/// An IBAN: country code, two check digits, 11–30 letters or digits (spaces allowed in groups),
/// whose ISO 7064 MOD 97-10 check holds.
bool LooksLikeIban(std::string_view text);

/// A national identification number of one of these formats, with its own validity rules:
///  - US social security number, written AAA-GG-SSSS (area not 000, 666 or 9xx; group not 00;
///    serial not 0000);
///  - UK national insurance number: two prefix letters (not D, F, I, Q, U, V; second not O;
///    not BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A–D (spaces allowed);
///  - Spanish DNI (8 digits and a check letter) and NIE (X, Y or Z, 7 digits, check letter);
///  - Dutch BSN: 9 digits passing the eleven test;
///  - German tax identification number (Steuer-IdNr): 11 digits, first not 0, ISO 7064
///    MOD 11,10 check digit;
///  - French NIR (numéro de sécurité sociale): sex digit 1 or 2, 12 more characters (Corsica 2A
///    or 2B), and the key 97 − (number mod 97).
bool LooksLikeNationalId(std::string_view text);

}  // namespace meshwork::governance

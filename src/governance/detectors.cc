#include "governance/detectors.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <string>

namespace meshwork::governance {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

// `text` without the separators a person types between groups.
std::string Compact(std::string_view text, std::string_view separators) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text)
    if (separators.find(c) == std::string_view::npos) out += c;
  return out;
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text)
    if (!IsDigit(c)) return false;
  return true;
}

// The remainder mod 97 of a long decimal number given as text (digits only).
int Mod97(std::string_view digits) {
  int remainder = 0;
  for (const char c : digits)
    remainder = (remainder * 10 + (c - '0')) % 97;
  return remainder;
}

bool IsSocialSecurityNumber(std::string_view text) {
  if (text.size() != 11 || text[3] != '-' || text[6] != '-') return false;
  const std::string_view area = text.substr(0, 3), group = text.substr(4, 2),
                         serial = text.substr(7, 4);
  if (!AllDigits(area) || !AllDigits(group) || !AllDigits(serial)) return false;
  return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000";
}

bool IsNationalInsuranceNumber(const std::string& compact) {
  if (compact.size() != 9 || !IsUpper(compact[0]) || !IsUpper(compact[1])) return false;
  constexpr std::string_view kNeverFirst = "DFIQUV", kNeverSecond = "DFIOQUV";
  if (kNeverFirst.find(compact[0]) != std::string_view::npos ||
      kNeverSecond.find(compact[1]) != std::string_view::npos) {
    return false;
  }
  const std::string prefix = compact.substr(0, 2);
  for (const char* unused : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
    if (prefix == unused) return false;
  return AllDigits(std::string_view(compact).substr(2, 6)) && compact[8] >= 'A' &&
         compact[8] <= 'D';
}

bool IsSpanishDni(const std::string& compact) {
  constexpr std::string_view kLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
  if (compact.size() != 9 || !IsUpper(compact[8])) return false;
  std::string number = compact.substr(0, 8);
  if (number[0] == 'X' || number[0] == 'Y' || number[0] == 'Z') {  // NIE
    number[0] = static_cast<char>('0' + (number[0] - 'X'));
  }
  if (!AllDigits(number)) return false;
  return kLetters[std::stoul(number) % 23] == compact[8];
}

bool IsDutchBsn(const std::string& digits) {
  if (digits.size() != 9 || !AllDigits(digits)) return false;
  int sum = 0;
  for (int i = 0; i < 8; ++i)
    sum += (9 - i) * (digits[i] - '0');
  sum -= digits[8] - '0';
  return sum % 11 == 0 && digits != "000000000";
}

bool IsGermanTaxId(const std::string& digits) {
  if (digits.size() != 11 || !AllDigits(digits) || digits[0] == '0') return false;
  int product = 10;
  for (int i = 0; i < 10; ++i) {
    int sum = (digits[i] - '0' + product) % 10;
    if (sum == 0) sum = 10;
    product = (sum * 2) % 11;
  }
  int check = 11 - product;
  if (check == 10) check = 0;
  return check == digits[10] - '0';
}

bool IsFrenchNir(const std::string& compact) {
  if (compact.size() != 15 || (compact[0] != '1' && compact[0] != '2')) return false;
  std::string number = compact.substr(0, 13);
  // The department is characters 6–7; Corsica's 2A and 2B count as 19 and 18 in the key.
  if (number[6] == 'A' || number[6] == 'B') {
    if (number[5] != '2') return false;
    number[5] = '1';
    number[6] = number[6] == 'A' ? '9' : '8';
  }
  if (!AllDigits(number) || !AllDigits(std::string_view(compact).substr(13))) return false;
  const int64_t value = std::stoll(number);
  const int key = std::stoi(compact.substr(13));
  return key == 97 - static_cast<int>(value % 97);
}

}  // namespace

bool LooksLikeCardNumber(std::string_view text) {
  std::string digits;
  for (const char c : text) {
    if (IsDigit(c)) {
      digits += c;
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  if (digits.size() < 13 || digits.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int digit = *it - '0';
    if (twice) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool LooksLikeIban(std::string_view text) {
  const std::string compact = Compact(text, " ");
  if (compact.size() < 15 || compact.size() > 34) return false;
  if (!IsUpper(compact[0]) || !IsUpper(compact[1]) || !IsDigit(compact[2]) ||
      !IsDigit(compact[3])) {
    return false;
  }
  // Country and check digits move to the end; letters count as 10..35.
  const std::string moved = compact.substr(4) + compact.substr(0, 4);
  std::string digits;
  for (const char c : moved) {
    if (IsDigit(c)) {
      digits += c;
    } else if (IsUpper(c)) {
      digits += std::to_string(c - 'A' + 10);
    } else {
      return false;
    }
  }
  return Mod97(digits) == 1;
}

bool LooksLikeNationalId(std::string_view text) {
  if (text.size() < 9 || text.size() > 21) return false;
  if (IsSocialSecurityNumber(text)) return true;
  const std::string compact = Compact(text, " -.");
  return IsNationalInsuranceNumber(compact) || IsSpanishDni(compact) || IsDutchBsn(compact) ||
         IsGermanTaxId(compact) || IsFrenchNir(compact);
}

}  // namespace meshwork::governance

#include "libs/envelope/pg_data_key_store.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"

namespace switchboard::envelope {
namespace {

constexpr const char* kColumns = "company_id, key_version, master_key_id, wrapped_key";

absl::StatusOr<WrappedDataKey> FromRow(const pqxx::row& r) {
  WrappedDataKey k;
  k.company_id = r["company_id"].as<std::string>();
  k.version = static_cast<uint32_t>(r["key_version"].as<int>());
  k.master_key_id = r["master_key_id"].as<std::string>();
  if (r["wrapped_key"].is_null()) {
    k.shredded = true;
  } else {
    absl::StatusOr<std::string> raw = crypto::Base64Decode(r["wrapped_key"].as<std::string>());
    if (!raw.ok()) {
      return absl::DataLossError(absl::StrCat("company_data_keys: wrapped key of '", k.company_id,
                                              "' v", k.version, " is not base64"));
    }
    k.wrapped = std::move(*raw);
  }
  return k;
}

}  // namespace

absl::StatusOr<WrappedDataKey> PgDataKeyStore::InsertIfAbsent(const WrappedDataKey& key) {
  return pool_.InTenantOr<WrappedDataKey>(
      key.company_id, [&](pqxx::work& tx) -> absl::StatusOr<WrappedDataKey> {
        tx.exec_params(
            "INSERT INTO company_data_keys (company_id, key_version, master_key_id, wrapped_key) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (company_id, key_version) DO NOTHING",
            key.company_id, static_cast<int>(key.version), key.master_key_id,
            crypto::Base64Encode(key.wrapped));
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kColumns,
                         " FROM company_data_keys WHERE company_id = $1 AND key_version = $2"),
            key.company_id, static_cast<int>(key.version));
        if (r.empty()) return absl::InternalError("company_data_keys: inserted row not visible");
        return FromRow(r[0]);
      });
}

absl::StatusOr<std::optional<WrappedDataKey>> PgDataKeyStore::GetLatest(
    absl::string_view company_id) {
  return pool_.InTenantOr<std::optional<WrappedDataKey>>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::optional<WrappedDataKey>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kColumns, " FROM company_data_keys WHERE company_id = $1 "
                                              "ORDER BY key_version DESC LIMIT 1"),
            std::string(company_id));
        if (r.empty()) return std::optional<WrappedDataKey>();
        ASSIGN_OR_RETURN(WrappedDataKey k, FromRow(r[0]));
        return std::optional<WrappedDataKey>(std::move(k));
      });
}

absl::StatusOr<std::optional<WrappedDataKey>> PgDataKeyStore::Get(absl::string_view company_id,
                                                                  uint32_t version) {
  return pool_.InTenantOr<std::optional<WrappedDataKey>>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::optional<WrappedDataKey>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kColumns,
                         " FROM company_data_keys WHERE company_id = $1 AND key_version = $2"),
            std::string(company_id), static_cast<int>(version));
        if (r.empty()) return std::optional<WrappedDataKey>();
        ASSIGN_OR_RETURN(WrappedDataKey k, FromRow(r[0]));
        return std::optional<WrappedDataKey>(std::move(k));
      });
}

absl::StatusOr<std::vector<WrappedDataKey>> PgDataKeyStore::ListNotWrappedBy(
    absl::string_view master_key_id, absl::string_view after_company, uint32_t after_version,
    int limit) {
  return pool_.UnscopedOr<std::vector<WrappedDataKey>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<WrappedDataKey>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kColumns,
                         " FROM company_data_keys WHERE master_key_id <> $1 AND "
                         "shredded_at IS NULL AND (company_id, key_version) > ($2, $3) "
                         "ORDER BY company_id, key_version LIMIT $4"),
            std::string(master_key_id), std::string(after_company),
            static_cast<int>(after_version), limit);
        std::vector<WrappedDataKey> out;
        for (const pqxx::row& row : r) {
          ASSIGN_OR_RETURN(WrappedDataKey k, FromRow(row));
          out.push_back(std::move(k));
        }
        return out;
      });
}

absl::StatusOr<bool> PgDataKeyStore::ReplaceWrapping(absl::string_view company_id,
                                                     uint32_t version,
                                                     absl::string_view expected_master_key_id,
                                                     absl::string_view new_master_key_id,
                                                     absl::string_view new_wrapped) {
  return pool_.InTenantOr<bool>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    pqxx::result r = tx.exec_params(
        "UPDATE company_data_keys SET master_key_id = $4, wrapped_key = $5, rewrapped_at = now() "
        "WHERE company_id = $1 AND key_version = $2 AND master_key_id = $3 "
        "AND shredded_at IS NULL",
        std::string(company_id), static_cast<int>(version), std::string(expected_master_key_id),
        std::string(new_master_key_id), crypto::Base64Encode(new_wrapped));
    return r.affected_rows() == 1;
  });
}

absl::Status PgDataKeyStore::Shred(absl::string_view company_id) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    std::string company(company_id);
    tx.exec_params(
        "INSERT INTO company_data_keys (company_id, key_version, master_key_id, wrapped_key, "
        "shredded_at) VALUES ($1, 1, '', NULL, now()) "
        "ON CONFLICT (company_id, key_version) DO NOTHING",
        company);
    tx.exec_params(
        "UPDATE company_data_keys SET wrapped_key = NULL, shredded_at = now() "
        "WHERE company_id = $1 AND shredded_at IS NULL",
        company);
    return absl::OkStatus();
  });
}

}  // namespace switchboard::envelope

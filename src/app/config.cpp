#include "app/config.hpp"

#include <spdlog/common.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <sstream>
#include <thread>

namespace strowger::app {
namespace {

std::string describe(const toml::source_region& where) {
    std::ostringstream out;
    if (where.path) {
        out << *where.path << ":";
    }
    out << where.begin.line << ":" << where.begin.column;
    return out.str();
}

[[noreturn]] void refuse(const std::string& key, const std::string& problem) {
    throw ConfigError(key + ": " + problem);
}

std::string as_string(const std::string& key, const toml::node& node) {
    const auto* s = node.as_string();
    if (s == nullptr) {
        refuse(key, "expected a string");
    }
    return s->get();
}

std::int64_t as_integer(const std::string& key, const toml::node& node, std::int64_t min,
                        std::int64_t max) {
    const auto* i = node.as_integer();
    if (i == nullptr) {
        refuse(key, "expected an integer");
    }
    if (i->get() < min || i->get() > max) {
        refuse(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return i->get();
}

std::vector<core::ListenSpec> as_listen_list(const std::string& key, const toml::node& node,
                                             std::initializer_list<core::Transport> supported) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        refuse(key, R"(expected a list such as ["udp:0.0.0.0:3478"])");
    }
    std::vector<core::ListenSpec> specs;
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto item_key = key + "[" + std::to_string(i) + "]";
        auto text = as_string(item_key, *array->get(i));
        std::string why;
        auto spec = core::parse_listen_spec(text, &why);
        if (!spec) {
            refuse(item_key, "'" + text + "': " + why);
        }
        if (std::find(supported.begin(), supported.end(), spec->transport) == supported.end()) {
            std::string list;
            for (auto t : supported) {
                list += (list.empty() ? "" : ", ") + std::string(core::to_string(t));
            }
            refuse(item_key, "'" + text + "': transport " +
                                 std::string(core::to_string(spec->transport)) +
                                 " is not available for this service (" + list + ")");
        }
        specs.push_back(*spec);
    }
    return specs;
}

bool as_bool(const std::string& key, const toml::node& node) {
    const auto* b = node.as_boolean();
    if (b == nullptr) {
        refuse(key, "expected true or false");
    }
    return b->get();
}

// Domain names (or address literals) served by the registrar, compared case-insensitively.
std::vector<std::string> as_domain_list(const std::string& key, const toml::node& node) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        refuse(key, R"(expected a list such as ["example.com"])");
    }
    std::vector<std::string> domains;
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto item_key = key + "[" + std::to_string(i) + "]";
        auto text = as_string(item_key, *array->get(i));
        if (text.empty() || text.find_first_of(" \t;:@<>") != std::string::npos) {
            refuse(item_key, "'" + text + "' is not a domain name");
        }
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        domains.push_back(std::move(text));
    }
    return domains;
}

// An IP address literal (no port), kept as text; empty is allowed (the default).
std::string as_address(const std::string& key, const toml::node& node) {
    auto text = as_string(key, node);
    if (!text.empty() && !core::IpEndpoint::from_address(text, 0)) {
        refuse(key, "'" + text + "' is not an IP address");
    }
    return text;
}

std::vector<core::Cidr> as_cidr_list(const std::string& key, const toml::node& node) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        refuse(key, R"(expected a list such as ["127.0.0.0/8", "10.1.2.3"])");
    }
    std::vector<core::Cidr> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto item_key = key + "[" + std::to_string(i) + "]";
        std::string why;
        auto cidr = core::parse_cidr(as_string(item_key, *array->get(i)), &why);
        if (!cidr) {
            refuse(item_key, why);
        }
        out.push_back(*cidr);
    }
    return out;
}

// "LOW-HIGH", e.g. "49152-65535".
void set_port_range(Config& c, const std::string& key, const toml::node& node) {
    auto text = as_string(key, node);
    unsigned low = 0;
    unsigned high = 0;
    char dash = 0;
    std::istringstream in(text);
    if (!(in >> low >> dash >> high) || dash != '-' || !in.eof() || low < 1024 || high > 65535 ||
        low > high) {
        refuse(key, "'" + text + "': expected LOW-HIGH within 1024-65535, e.g. \"49152-65535\"");
    }
    c.turn.relay_port_min = low;
    c.turn.relay_port_max = high;
}

// The known keys, each with how to read it into Config.
using Setter = std::function<void(Config&, const std::string& key, const toml::node&)>;

Setter unsigned_setter(unsigned Config::Sip::*field, std::int64_t min, std::int64_t max) {
    return [field, min, max](Config& c, const std::string& k, const toml::node& n) {
        c.sip.*field = static_cast<unsigned>(as_integer(k, n, min, max));
    };
}

Setter turn_unsigned(unsigned Config::Turn::*field, std::int64_t min, std::int64_t max) {
    return [field, min, max](Config& c, const std::string& k, const toml::node& n) {
        c.turn.*field = static_cast<unsigned>(as_integer(k, n, min, max));
    };
}

Setter turn_string(std::string Config::Turn::*field) {
    return [field](Config& c, const std::string& k, const toml::node& n) {
        c.turn.*field = as_string(k, n);
    };
}

Setter turn_address(std::string Config::Turn::*field) {
    return [field](Config& c, const std::string& k, const toml::node& n) {
        c.turn.*field = as_address(k, n);
    };
}

Setter tls_file(std::string Config::Tls::*field) {
    return [field](Config& c, const std::string& k, const toml::node& n) {
        c.tls.*field = as_string(k, n);
    };
}

const std::vector<std::pair<std::string, Setter>>& schema() {
    static const std::vector<std::pair<std::string, Setter>> keys = {
        {"general.threads",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.threads = static_cast<unsigned>(as_integer(k, n, 0, 256));
         }},
        {"general.data_dir",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.data_dir = as_string(k, n);
             if (c.data_dir.empty()) {
                 refuse(k, "must not be empty");
             }
         }},
        {"general.realm",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.realm = as_string(k, n);
             if (c.realm.empty()) {
                 refuse(k, "must not be empty");
             }
         }},
        {"log.level",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.log_level = as_string(k, n);
             if (spdlog::level::from_str(c.log_level) == spdlog::level::off &&
                 c.log_level != "off") {
                 refuse(k, "'" + c.log_level +
                               "' is not a level (trace, debug, info, warn, error, critical, off)");
             }
         }},
        {"stun.listen",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.stun_listen = as_listen_list(
                 k, n, {core::Transport::Udp, core::Transport::Tcp, core::Transport::Tls});
         }},
        {"sip.listen",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.sip.listen = as_listen_list(k, n,
                                           {core::Transport::Udp, core::Transport::Tcp,
                                            core::Transport::Tls, core::Transport::Ws,
                                            core::Transport::Wss});
         }},
        {"http.listen",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.http_listen = as_listen_list(k, n, {core::Transport::Tcp, core::Transport::Tls});
         }},
        {"sip.domains",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.sip.domains = as_domain_list(k, n);
         }},
        {"sip.forward_foreign",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.sip.forward_foreign = as_bool(k, n);
         }},
        {"sip.advertise",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.sip.advertise = as_string(k, n);
         }},
        {"sip.timer_c", unsigned_setter(&Config::Sip::timer_c, 1, 86400)},
        {"sip.t1_ms", unsigned_setter(&Config::Sip::t1_ms, 10, 60000)},
        {"sip.t2_ms", unsigned_setter(&Config::Sip::t2_ms, 10, 600000)},
        {"sip.t4_ms", unsigned_setter(&Config::Sip::t4_ms, 10, 600000)},
        {"sip.min_expires", unsigned_setter(&Config::Sip::min_expires, 0, 86400)},
        {"sip.max_expires", unsigned_setter(&Config::Sip::max_expires, 1, 31536000)},
        {"sip.max_message_bytes", unsigned_setter(&Config::Sip::max_message_bytes, 1024, 1 << 20)},
        {"sip.tcp_idle_timeout", unsigned_setter(&Config::Sip::tcp_idle_timeout, 1, 86400)},
        {"sip.auth",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.sip.auth = as_string(k, n);
             if (c.sip.auth != "auto" && c.sip.auth != "required" && c.sip.auth != "off") {
                 refuse(k, "'" + c.sip.auth + "': expected \"auto\", \"required\" or \"off\"");
             }
         }},
        {"sip.nonce_lifetime", unsigned_setter(&Config::Sip::nonce_lifetime, 10, 86400)},
        {"sip.auth_algorithms",
         [](Config& c, const std::string& k, const toml::node& n) {
             const auto* array = n.as_array();
             if (array == nullptr || array->empty()) {
                 refuse(k, R"(expected a non-empty list such as ["SHA-256", "MD5"])");
             }
             c.sip.auth_algorithms.clear();
             for (std::size_t i = 0; i < array->size(); ++i) {
                 auto item_key = k + "[" + std::to_string(i) + "]";
                 auto name = as_string(item_key, *array->get(i));
                 // The user store keeps HA1 for MD5 and SHA-256 only (no -sess: the client's
                 // cnonce would be needed before any key could be checked, for no gain here).
                 if (name != "MD5" && name != "SHA-256") {
                     refuse(item_key, "'" + name + "': expected \"MD5\" or \"SHA-256\"");
                 }
                 if (std::find(c.sip.auth_algorithms.begin(), c.sip.auth_algorithms.end(),
                               name) != c.sip.auth_algorithms.end()) {
                     refuse(item_key, "'" + name + "' is listed twice");
                 }
                 c.sip.auth_algorithms.push_back(name);
             }
         }},
        {"turn.realm", turn_string(&Config::Turn::realm)},
        {"turn.auth_secret", turn_string(&Config::Turn::auth_secret)},
        {"turn.relay_address", turn_address(&Config::Turn::relay_address)},
        {"turn.external_address", turn_address(&Config::Turn::external_address)},
        {"turn.relay_ports", set_port_range},
        {"turn.allowed_peers",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.turn.allowed_peers = as_cidr_list(k, n);
         }},
        {"turn.user_quota", turn_unsigned(&Config::Turn::user_quota, 0, 1000000)},
        {"turn.total_quota", turn_unsigned(&Config::Turn::total_quota, 0, 1000000)},
        {"turn.max_bytes_per_second",
         [](Config& c, const std::string& k, const toml::node& n) {
             c.turn.max_bytes_per_second =
                 static_cast<std::uint64_t>(as_integer(k, n, 0, std::int64_t{1} << 40));
         }},
        {"turn.max_lifetime", turn_unsigned(&Config::Turn::max_lifetime, 600, 86400)},
        {"turn.rest_lifetime", turn_unsigned(&Config::Turn::rest_lifetime, 60, 31536000)},
        {"tls.cert_file", tls_file(&Config::Tls::cert_file)},
        {"tls.key_file", tls_file(&Config::Tls::key_file)},
    };
    return keys;
}

const Setter* find_key(const std::string& key) {
    for (const auto& [name, setter] : schema()) {
        if (name == key) {
            return &setter;
        }
    }
    return nullptr;
}

// Visits every leaf (non-table value) with its dotted key.
void for_each_leaf(const toml::table& table, const std::string& prefix,
                   const std::function<void(const std::string&, const toml::node&)>& fn) {
    for (const auto& [name, node] : table) {
        auto key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
        if (const auto* sub = node.as_table()) {
            for_each_leaf(*sub, key, fn);
        } else {
            fn(key, node);
        }
    }
}

void apply_override(toml::table& root, const std::string& assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw ConfigError("--set '" + assignment + "': expected KEY=VALUE");
    }
    auto key = assignment.substr(0, eq);
    auto value_text = assignment.substr(eq + 1);
    if (find_key(key) == nullptr) {
        refuse(key, "unknown key (from --set)");
    }
    toml::table parsed;
    try {
        parsed = toml::parse("value = " + value_text);
    } catch (const toml::parse_error&) {
        parsed.insert_or_assign("value", value_text); // not TOML: take it as a plain string
    }
    // Walk down the dotted path, creating tables on the way.
    toml::table* table = &root;
    std::size_t start = 0;
    for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
        auto part = key.substr(start, dot - start);
        auto [it, inserted] = table->emplace<toml::table>(part);
        table = it->second.as_table();
        if (table == nullptr) {
            refuse(key.substr(0, dot), "is a value, not a table");
        }
        start = dot + 1;
    }
    table->insert_or_assign(key.substr(start), std::move(*parsed.get("value")));
}

} // namespace

unsigned Config::shard_count() const {
    if (threads != 0) {
        return threads;
    }
    return std::max(1U, std::thread::hardware_concurrency());
}

Config load_config(const std::optional<std::string>& file,
                   const std::vector<std::string>& overrides) {
    toml::table root;
    if (file) {
        try {
            root = toml::parse_file(*file);
        } catch (const toml::parse_error& e) {
            throw ConfigError(describe(e.source()) + ": " + std::string(e.description()));
        }
    }
    for (const auto& assignment : overrides) {
        apply_override(root, assignment);
    }

    Config config;
    config.stun_listen = as_listen_list("stun.listen",
                                        toml::array{"udp:0.0.0.0:3478", "tcp:0.0.0.0:3478"},
                                        {core::Transport::Udp, core::Transport::Tcp});
    config.sip.listen = as_listen_list(
        "sip.listen", toml::array{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061"},
        {core::Transport::Udp, core::Transport::Tcp, core::Transport::Tls});
    config.http_listen = as_listen_list("http.listen", toml::array{"tcp:0.0.0.0:8080"},
                                        {core::Transport::Tcp});
    for_each_leaf(root, "", [&](const std::string& key, const toml::node& node) {
        const auto* setter = find_key(key);
        if (setter == nullptr) {
            auto where = file && node.source().begin ? " (" + describe(node.source()) + ")" : "";
            refuse(key, "unknown key" + where);
        }
        (*setter)(config, key, node);
    });
    if (config.sip.min_expires > config.sip.max_expires) {
        refuse("sip.min_expires", "must not exceed sip.max_expires");
    }
    if (config.sip.t1_ms > config.sip.t2_ms) {
        refuse("sip.t1_ms", "must not exceed sip.t2_ms");
    }
    if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
        refuse(config.tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file",
               "tls.cert_file and tls.key_file go together");
    }
    if (!config.turn.relay_address.empty() && !config.turn.external_address.empty() &&
        core::IpEndpoint::from_address(config.turn.relay_address, 0)->family !=
            core::IpEndpoint::from_address(config.turn.external_address, 0)->family) {
        refuse("turn.external_address", "must be of the same family as turn.relay_address");
    }
    return config;
}

} // namespace strowger::app

#include "retrace/analysis/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <numeric>

namespace retrace::analysis {

Interval wilson_interval(std::size_t successes, std::size_t n, double z) {
    if (n == 0) return {0, 1};
    double nn = static_cast<double>(n);
    double p = static_cast<double>(successes) / nn;
    double z2 = z * z;
    double denom = 1 + z2 / nn;
    double centre = p + z2 / (2 * nn);
    double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    return {std::max(0.0, (centre - half) / denom), std::min(1.0, (centre + half) / denom)};
}

double pass_at_k(std::size_t n, std::size_t c, std::size_t k) {
    if (k == 0 || n == 0) return 0;
    if (n - c < k) return 1;  // every draw of k holds a pass
    // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
    double fail_all = 1;
    for (std::size_t i = n - c + 1; i <= n; ++i)
        fail_all *= 1 - static_cast<double>(k) / static_cast<double>(i);
    return 1 - fail_all;
}

double Sprt::upper() const {
    return std::log((1 - beta) / alpha);
}
double Sprt::lower() const {
    return std::log(beta / (1 - alpha));
}
double Sprt::llr(std::size_t failures, std::size_t passes) const {
    return static_cast<double>(failures) * std::log(p1 / p0) +
           static_cast<double>(passes) * std::log((1 - p1) / (1 - p0));
}
std::string Sprt::decide(std::size_t failures, std::size_t passes) const {
    double l = llr(failures, passes);
    if (l >= upper()) return "h1";
    if (l <= lower()) return "h0";
    return "";
}

namespace {

// log C(n, k)
double log_choose(std::size_t n, std::size_t k) {
    return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
           std::lgamma(static_cast<double>(n - k) + 1);
}

}  // namespace

double fisher_exact(std::size_t a, std::size_t b, std::size_t c, std::size_t d) {
    std::size_t row1 = a + b, col1 = a + c, n = a + b + c + d;
    auto log_p = [&](std::size_t x) {
        return log_choose(row1, x) + log_choose(n - row1, col1 - x) - log_choose(n, col1);
    };
    double observed = log_p(a);
    std::size_t lo = col1 > n - row1 ? col1 - (n - row1) : 0, hi = std::min(row1, col1);
    double total = 0;
    for (std::size_t x = lo; x <= hi; ++x) {
        double lp = log_p(x);
        if (lp <= observed + 1e-7) total += std::exp(lp);
    }
    return std::min(1.0, total);
}

std::vector<double> holm(const std::vector<double>& p) {
    std::vector<std::size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return p[x] < p[y]; });
    std::vector<double> out(p.size());
    double running = 0;
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
        double adjusted = std::min(1.0, p[order[rank]] * static_cast<double>(p.size() - rank));
        running = std::max(running, adjusted);
        out[order[rank]] = running;
    }
    return out;
}

// rule := any ; any := all ('or' all)* ; all := atom ('and' atom)* ;
// atom := '(' any ')' | metric op number
class RuleParser {
  public:
    RuleParser(std::string_view text, Rule& rule) : m_text(text), m_rule(rule) {}

    Result<int> parse() {
        RETRACE_ASSIGN(int root, any());
        skip();
        if (m_at != m_text.size())
            return fail("unexpected '" + std::string(m_text.substr(m_at)) + "'");
        return root;
    }

  private:
    Status fail(const std::string& why) const {
        return error(ErrorCode::invalid_input, "--rule '" + std::string(m_text) + "': " + why);
    }
    void skip() {
        while (m_at < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_at])))
            ++m_at;
    }
    bool word(std::string_view w) {
        skip();
        if (m_text.substr(m_at, w.size()) != w) return false;
        std::size_t end = m_at + w.size();
        if (end < m_text.size() && std::isalnum(static_cast<unsigned char>(m_text[end])))
            return false;
        m_at = end;
        return true;
    }
    int add(Rule::Node node) {
        m_rule.m_nodes.push_back(std::move(node));
        return static_cast<int>(m_rule.m_nodes.size()) - 1;
    }
    Result<int> any() {
        RETRACE_ASSIGN(int left, all());
        while (word("or")) {
            RETRACE_ASSIGN(int right, all());
            left = add({Rule::Node::any, "", 1, "", 0, left, right});
        }
        return left;
    }
    Result<int> all() {
        RETRACE_ASSIGN(int left, atom());
        while (word("and")) {
            RETRACE_ASSIGN(int right, atom());
            left = add({Rule::Node::all, "", 1, "", 0, left, right});
        }
        return left;
    }
    Result<int> atom() {
        skip();
        if (m_at < m_text.size() && m_text[m_at] == '(') {
            ++m_at;
            RETRACE_ASSIGN(int inner, any());
            skip();
            if (m_at >= m_text.size() || m_text[m_at] != ')') return fail("missing ')'");
            ++m_at;
            return inner;
        }
        Rule::Node n;
        if (word("fail_rate")) {
            n.metric = "fail_rate";
        } else if (word("pass_rate")) {
            n.metric = "pass_rate";
        } else if (skip(), m_text.substr(m_at, 5) == "pass@") {
            m_at += 5;
            std::size_t start = m_at;
            while (m_at < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_at])))
                ++m_at;
            if (start == m_at) return fail("pass@ wants a number of runs, as in pass@5");
            n.metric = "pass@";
            n.k = std::stoul(std::string(m_text.substr(start, m_at - start)));
            if (n.k == 0) return fail("pass@0 means nothing");
        } else {
            return fail("expected fail_rate, pass_rate or pass@K at '" +
                        std::string(m_text.substr(m_at)) + "'");
        }
        skip();
        for (const char* op : {">=", "<=", ">", "<"})
            if (m_text.substr(m_at, std::strlen(op)) == op) {
                n.op = op;
                m_at += std::strlen(op);
                break;
            }
        if (n.op.empty()) return fail("expected >=, >, <= or < after " + n.metric);
        skip();
        std::size_t used = 0;
        try {
            n.value = std::stod(std::string(m_text.substr(m_at)), &used);
        } catch (const std::exception&) {
            return fail("expected a number after " + n.op);
        }
        m_at += used;
        if (n.value < 0 || n.value > 1) return fail("rates are between 0 and 1");
        return add(std::move(n));
    }

    std::string_view m_text;
    Rule& m_rule;
    std::size_t m_at = 0;
};

Result<Rule> Rule::parse(std::string_view text) {
    Rule rule;
    rule.m_text = std::string(text);
    RuleParser parser(text, rule);
    RETRACE_ASSIGN(rule.m_root, parser.parse());
    return rule;
}

std::string Rule::decide(std::size_t passes, std::size_t n) const {
    return decide(m_root, passes, n);
}

std::string Rule::decide(int index, std::size_t passes, std::size_t n) const {
    const Node& node = m_nodes[static_cast<std::size_t>(index)];
    if (node.kind != Node::compare) {
        std::string a = decide(node.left, passes, n), b = decide(node.right, passes, n);
        if (node.kind == Node::all) {
            if (a == "reject" || b == "reject") return "reject";
            return a == "accept" && b == "accept" ? "accept" : "inconclusive";
        }
        if (a == "accept" || b == "accept") return "accept";
        return a == "reject" && b == "reject" ? "reject" : "inconclusive";
    }
    Interval pass = wilson_interval(passes, n);
    Interval v = pass;
    if (node.metric == "fail_rate") v = {1 - pass.hi, 1 - pass.lo};
    if (node.metric == "pass@") {
        double k = static_cast<double>(node.k);
        v = {1 - std::pow(1 - pass.lo, k), 1 - std::pow(1 - pass.hi, k)};
    }
    double t = node.value;
    bool accept = false, reject = false;
    if (node.op == ">=") accept = v.lo >= t, reject = v.hi < t;
    if (node.op == ">") accept = v.lo > t, reject = v.hi <= t;
    if (node.op == "<=") accept = v.hi <= t, reject = v.lo > t;
    if (node.op == "<") accept = v.hi < t, reject = v.lo >= t;
    return accept ? "accept" : reject ? "reject" : "inconclusive";
}

}  // namespace retrace::analysis

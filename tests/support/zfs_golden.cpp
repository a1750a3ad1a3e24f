#include "tests/support/zfs_golden.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace zsend::test {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::stringstream stream(line);
  std::string word;
  while (stream >> word) words.push_back(word);
  return words;
}

void AppendPrefixed(std::string& to, const std::string& prefix, const std::string& text) {
  std::stringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) to += prefix + line + "\n";
}

}  // namespace

std::string GoldenDir() {
  return std::string(ZSEND_SOURCE_DIR) + "/tests/data/openzfs-golden";
}

std::vector<GoldenCommand> ReadGoldenCommands() {
  std::vector<GoldenCommand> commands;
  std::stringstream stream(ReadText(GoldenDir() + "/commands.txt"));
  std::string line;
  while (std::getline(stream, line)) {
    if (line.empty() || line[0] == '#') continue;
    GoldenCommand command;
    const std::string marker = "dialect ";
    if (line.rfind(marker, 0) == 0) {
      command.dialect = true;
      line = line.substr(marker.size());
    }
    command.line = line;
    command.argv = SplitWords(line);
    commands.push_back(command);
  }
  return commands;
}

std::vector<GoldenAnswer> ReadGoldenAnswers() {
  std::vector<GoldenAnswer> answers;
  std::stringstream stream(ReadText(GoldenDir() + "/recorded.txt"));
  std::string line;
  while (std::getline(stream, line)) {
    if (line.rfind("$ ", 0) == 0) {
      answers.push_back({line.substr(2), 0, "", ""});
    } else if (answers.empty()) {
      continue;  // the header
    } else if (line.rfind("rc ", 0) == 0) {
      answers.back().exit_code = std::stoi(line.substr(3));
    } else if (line.rfind("| ", 0) == 0 || line == "|") {
      answers.back().out += (line.size() > 2 ? line.substr(2) : "") + "\n";
    } else if (line.rfind("! ", 0) == 0 || line == "!") {
      answers.back().err += (line.size() > 2 ? line.substr(2) : "") + "\n";
    }
  }
  return answers;
}

const std::string& RecordedOpenZfsUsage() {
  static const std::string usage = [] {
    for (const GoldenAnswer& answer : ReadGoldenAnswers()) {
      if (answer.line == "zfs -?") return answer.out + answer.err;
    }
    return std::string("(no `zfs -?` in tests/data/openzfs-golden/recorded.txt)\n");
  }();
  return usage;
}

std::string FormatGoldenAnswer(const GoldenAnswer& answer) {
  std::string text = "$ " + answer.line + "\nrc " + std::to_string(answer.exit_code) + "\n";
  AppendPrefixed(text, "| ", answer.out);
  AppendPrefixed(text, "! ", answer.err);
  return text;
}

std::string Normalize(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const bool hex = text.compare(i, 2, "0x") == 0 && i + 2 < text.size() &&
                     std::isxdigit(static_cast<unsigned char>(text[i + 2]));
    if (hex || std::isdigit(static_cast<unsigned char>(text[i]))) {
      i += hex ? 2 : 0;
      auto in_number = [&](char c) {
        return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                   : std::isdigit(static_cast<unsigned char>(c)) != 0;
      };
      while (i < text.size() && in_number(text[i])) ++i;
      out += '#';
    } else {
      out += text[i++];
    }
  }
  // ctime's date in `zfs holds` ("Sun Dec  6 03:26 2026", now "Sun Dec  # #:# #"): its day
  // and month names and the padding of a one-digit day.
  for (const char* day : {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}) {
    for (const char* month :
         {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}) {
      for (const std::string& date :
           {std::string(day) + " " + month + "  #", std::string(day) + " " + month + " #"}) {
        for (size_t at = out.find(date); at != std::string::npos; at = out.find(date, at)) {
          out.replace(at, date.size(), "(date) #");
        }
      }
    }
  }
  return out;
}

}  // namespace zsend::test

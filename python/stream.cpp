// Workflow.process_stream: a file of records streamed by the engine (source and sink on
// its own threads), or any Python iterable run in chunks and yielded as Results.
#include "bindings.hpp"
#include "convert.hpp"
#include "options.hpp"

#include <statenet/stream.hpp>
#include <statenet/workflow.hpp>

#include <fmt/format.h>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace statenet::python {

namespace {

/// Yields the Result of every item of a Python iterable, in order: `chunk` items at a
/// time are converted (with the GIL) and run by process_batch (without it). An item
/// that cannot become a record yields a failed Result (InvalidJson) and the stream
/// goes on, as a malformed line does in a file stream.
class ResultStream {
public:
    ResultStream(Workflow workflow, py::iterator items, BatchOptions options, std::size_t chunk)
        : workflow_(std::move(workflow)), items_(std::move(items)), options_(std::move(options)), chunk_(chunk) {}

    PyResult next() {
        if (ready_.empty()) fill();
        if (ready_.empty()) throw py::stop_iteration();
        PyResult result = std::move(ready_.front());
        ready_.pop_front();
        return result;
    }

private:
    void fill() {
        std::vector<Value> records;
        std::vector<std::optional<ErrorInfo>> invalid;  // per item taken: why it is no record
        while (invalid.size() < chunk_ && items_ != py::iterator::sentinel()) {
            try {
                records.push_back(to_value(*items_));
                invalid.emplace_back();
            } catch (py::builtin_exception& e) {
                invalid.emplace_back(ErrorInfo{"InvalidJson", fmt::format("item {}: {}", taken_, e.what()), ""});
            } catch (py::error_already_set& e) {
                invalid.emplace_back(ErrorInfo{"InvalidJson", fmt::format("item {}: {}", taken_, e.what()), ""});
            }
            ++taken_;
            ++items_;
        }
        std::vector<Result> results;
        if (!records.empty()) {
            py::gil_scoped_release release;
            results = workflow_.process_batch(records, options_);
        }
        auto result = results.begin();
        for (auto& why : invalid) {
            if (why) {
                Result failed;
                failed.error = std::move(why);
                ready_.push_back(PyResult{std::move(failed)});
            } else {
                ready_.push_back(PyResult{std::move(*result++)});
            }
        }
    }

    Workflow workflow_;
    py::iterator items_;
    BatchOptions options_;
    std::size_t chunk_;
    std::size_t taken_ = 1;  // 1-based, like a file stream's line numbers
    std::deque<PyResult> ready_;
};

bool is_path(const py::handle source) { return py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__"); }

StreamStats stream_file(const Workflow& workflow, const std::filesystem::path& input, const py::object& output,
                        const py::kwargs& options_given);

py::object process_stream(const Workflow& workflow, const py::object& source, const py::object& output,
                          const py::kwargs& options) {
    if (is_path(source)) return py::cast(stream_file(workflow, source.cast<std::filesystem::path>(), output, options));
    if (!output.is_none())
        throw std::invalid_argument("output applies to file streams: an iterable's stream yields its Results");
    BatchOptions batch;
    std::size_t chunk = 1000;
    for (auto [key, value] : options) {
        const std::string name = py::str(key);
        if (name == "workers") batch.workers = value.cast<unsigned>();
        else if (name == "mode") batch.run.mode = data_mode(value.cast<std::optional<std::string>>());
        else if (name == "chunk_size") chunk = value.cast<std::size_t>();
        else
            throw std::invalid_argument(
                fmt::format("process_stream over an iterable takes workers, mode and "
                            "chunk_size, not {}",
                            name));
    }
    if (chunk == 0) throw std::invalid_argument("chunk_size must be at least 1");
    return py::cast(ResultStream(workflow, py::iter(source), batch, chunk));
}

StreamStats stream_file(const Workflow& workflow, const std::filesystem::path& input, const py::object& output,
                        const py::kwargs& options_given) {
    StreamOptions options;
    std::optional<std::string> input_format, output_format;
    char delimiter = ',';
    for (auto [key, value] : options_given) {
        const std::string name = py::str(key);
        if (name == "errors") options.errors = value.cast<std::filesystem::path>().string();
        else if (name == "workers") options.workers = value.cast<unsigned>();
        else if (name == "ordered") options.ordered = value.cast<bool>();
        else if (name == "mode") options.run.mode = data_mode(value.cast<std::optional<std::string>>());
        else if (name == "resume") options.resume = value.cast<bool>();
        else if (name == "batch_size") options.batch_size = value.cast<std::size_t>();
        else if (name == "format") input_format = value.cast<std::string>();
        else if (name == "output_format") output_format = value.cast<std::string>();
        else if (name == "csv_delimiter") {
            const auto text = value.cast<std::string>();
            if (text.size() != 1) throw std::invalid_argument("csv_delimiter must be one character");
            delimiter = text[0];
        } else if (name == "on_failure") {
            Callback callback(py::reinterpret_borrow<py::object>(value));
            options.on_failure = [callback](std::uint64_t line, const ErrorInfo& error) {
                callback([&](const py::object& function) { function(line, error); });
            };
        } else
            throw std::invalid_argument(
                fmt::format("process_stream over a file takes errors, workers, ordered, "
                            "mode, resume, batch_size, format, output_format, "
                            "csv_delimiter and on_failure, not {}",
                            name));
    }
    Source source = file_source(input.string(), record_format(input_format));
    source.csv_delimiter = delimiter;
    Sink sink = output.is_none()
                    ? null_sink()
                    : file_sink(output.cast<std::filesystem::path>().string(), record_format(output_format));
    sink.csv_delimiter = delimiter;
    py::gil_scoped_release release;
    return workflow.process_stream(source, sink, options);
}

}  // namespace

void register_stream(py::module_& module) {
    py::class_<ResultStream>(module, "ResultStream", "The Results of process_stream over an iterable, in order.")
        .def("__iter__", [](py::object self) { return self; })
        .def("__next__", &ResultStream::next);
    auto workflow = py::reinterpret_borrow<py::class_<Workflow>>(module.attr("Workflow"));
    workflow.def("process_stream", &process_stream, "source"_a, "output"_a = py::none(),
                 "source: a file path (str or os.PathLike) streamed by the engine into `output` (a path; None "
                 "discards the records), returning StreamStats; keywords errors, workers, ordered, mode, resume, "
                 "batch_size, format, output_format, csv_delimiter, on_failure(line, ErrorInfo). Or an iterable "
                 "of dicts: returns an iterator of Results, run `chunk_size` (1000) at a time on `workers` threads.");
}

}  // namespace statenet::python

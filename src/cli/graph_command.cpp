// `statenet graph`: a workflow's networks as Graphviz dot or Mermaid.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "io/byte_output.hpp"

#include <statenet/statenet.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace statenet::cli {

namespace {

struct GraphArgs {
    std::string workflow;
    std::string format = "dot";
    std::string output = "-";
    ComposeArgs compose;
};

int graph(const GraphArgs& args) {
    Engine engine;
    LoadOptions options;
    args.compose.apply(options);
    const Workflow workflow = engine.load(args.workflow, options);
    std::string text = workflow.graph(args.format == "mermaid" ? GraphFormat::mermaid : GraphFormat::dot);
    if (!text.empty() && text.back() != '\n') text += '\n';
    auto output = detail::open_output(args.output);
    output->write(text);
    output->close();
    return exit_ok;
}

}  // namespace

Command add_graph_command(CLI::App& root) {
    auto args = std::make_shared<GraphArgs>();
    CLI::App* app = root.add_subcommand("graph", "Draw a workflow's networks");
    app->footer("Exit status: 0 success, 2 usage or workflow error.");
    app->add_option("WORKFLOW", args->workflow, "Workflow file (.toml or .lua)")->required()->type_name("");
    app->add_option("--format", args->format, "Graph language (default: dot)")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"dot", "mermaid"}));
    app->add_option("-o,--output", args->output, "Output file, - for stdout (default)")->type_name("FILE");
    add_compose_options(app, args->compose);
    return {app, [args] { return graph(*args); }};
}

}  // namespace statenet::cli

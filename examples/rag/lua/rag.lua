-- rag: index a document into the vector store; answer a question from the documents
-- closest to it.
local M = {}

function M.is_document(data)
    return data.text ~= nil
end

-- The title and text are embedded together; the store keeps both for the answers.
function M.index(data, ctx)
    local vector = ctx.resources.llm:embed(data.title .. "\n" .. data.text)[1]
    ctx.resources.docs:add(data.id, vector, { title = data.title, text = data.text })
    data.indexed = true
end

function M.answer(data, ctx)
    local query = ctx.resources.llm:embed(data.question)[1]
    local hits = ctx.resources.docs:search(query, ctx.vars.top_k)
    local notes, sources = {}, {}
    for _, hit in ipairs(hits) do
        notes[#notes + 1] = "[" .. hit.id .. "] " .. hit.meta.title .. ": " .. hit.meta.text
        sources[#sources + 1] = hit.id
    end
    local reply = ctx.resources.llm:chat({
        { role = "user", content = "Notes:\n" .. table.concat(notes, "\n") .. "\n\nQuestion: " .. data.question },
    })
    data.answer = reply.text
    data.sources = sources
end

return M

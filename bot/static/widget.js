/*
 * Chat widget of the citizen assistant (trợ lý ảo thủ tục hành chính).
 *
 * Embed on any portal page with one tag:
 *   <script src="https://GATEWAY/widget.js" defer></script>
 * Options (attributes of that tag): data-api="https://GATEWAY" (default: where the script
 * comes from), data-open="true" (open the chat at load).
 *
 * No build step, no dependency. Everything shown is set with textContent: neither the
 * citizen's nor the assistant's text is ever parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var apiBase = (script && script.getAttribute("data-api")) ||
    (script && script.src ? new URL(".", script.src).href : "/");
  apiBase = apiBase.replace(/\/+$/, "");
  var openAtLoad = script && script.getAttribute("data-open") === "true";
  var STORAGE_KEY = "citizenbot.conversation";

  var RATINGS = [
    ["very_satisfied", "Rất hài lòng"],
    ["satisfied", "Hài lòng"],
    ["neutral", "Bình thường"],
    ["dissatisfied", "Không hài lòng"]
  ];
  // Replies after which the citizen may rate the answer.
  var RATEABLE = { answer: 1, guide: 1, fee: 1, clarify: 0, abstain: 1, out_of_scope: 1, unknown: 1, dossier: 1, handover: 1 };

  var state = {
    conversationId: null,
    lastQuestion: "",
    lastReply: null,
    busy: false
  };
  try { state.conversationId = window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { /* storage blocked */ }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "className") { node.className = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function post(path, body) {
    return fetch(apiBase + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data && typeof data.message === "string" ? data.message :
            "Yêu cầu không thành công (mã " + response.status + "). Vui lòng thử lại.";
          throw new Error(message);
        }
        return data;
      });
    }, function () {
      throw new Error("Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng rồi thử lại.");
    });
  }

  // ---- the frame ------------------------------------------------------------------

  var css = el("link", { rel: "stylesheet", href: apiBase + "/widget.css" });
  document.head.appendChild(css);

  var root = el("div", { className: "cb-root", "data-citizenbot": "" });
  var launcher = el("button", { type: "button", className: "cb-launcher", "aria-expanded": "false",
    "aria-controls": "cb-panel" }, "Hỏi trợ lý ảo");
  var panel = el("section", { id: "cb-panel", className: "cb-panel", role: "dialog",
    "aria-label": "Trợ lý ảo thủ tục hành chính", hidden: "" });

  var header = el("div", { className: "cb-header" });
  var title = el("h2", { className: "cb-title" }, "Trợ lý ảo thủ tục hành chính");
  var largeText = el("button", { type: "button", className: "cb-tool", "aria-pressed": "false",
    title: "Phóng to chữ" }, "A+ Chữ lớn");
  var closeButton = el("button", { type: "button", className: "cb-tool", "aria-label": "Đóng cửa sổ trò chuyện" },
    "Đóng");
  header.append(title, largeText, closeButton);

  var log = el("div", { className: "cb-log", role: "log", "aria-live": "polite", tabindex: "0",
    "aria-label": "Nội dung trò chuyện" });

  var form = el("form", { className: "cb-input" });
  var inputLabel = el("label", { for: "cb-message", className: "cb-visually-hidden" }, "Câu hỏi của bạn");
  var input = el("textarea", { id: "cb-message", rows: "2", maxlength: "2000",
    placeholder: "Nhập câu hỏi, ví dụ: làm tạm trú cần giấy tờ gì?" });
  var send = el("button", { type: "submit", className: "cb-send" }, "Gửi");
  form.append(inputLabel, input, send);

  var toolbar = el("div", { className: "cb-toolbar" });
  var askPerson = el("button", { type: "button", className: "cb-link-button" }, "Gặp cán bộ");
  var complain = el("button", { type: "button", className: "cb-link-button" }, "Gửi phản ánh, kiến nghị");
  toolbar.append(askPerson, complain);

  var formArea = el("div", { className: "cb-form-area" });

  panel.append(header, log, formArea, form, toolbar);
  root.append(launcher, panel);

  // ---- messages -----------------------------------------------------------------

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMessage(who, text, extraClass) {
    var item = el("div", { className: "cb-msg cb-" + who + (extraClass ? " " + extraClass : "") });
    item.appendChild(el("span", { className: "cb-visually-hidden" }, who === "user" ? "Bạn: " : "Trợ lý: "));
    item.appendChild(el("p", { className: "cb-text" }, text));
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function removeRatings() {
    Array.prototype.forEach.call(log.querySelectorAll(".cb-rating"), function (node) { node.remove(); });
  }

  function addRating(reply) {
    removeRatings();
    var box = el("div", { className: "cb-rating", role: "group", "aria-label": "Đánh giá câu trả lời" });
    box.appendChild(el("span", { className: "cb-rating-label" }, "Câu trả lời có hữu ích không?"));
    RATINGS.forEach(function (pair) {
      var button = el("button", { type: "button", className: "cb-chip", "data-rating": pair[0] }, pair[1]);
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
        post("/api/ratings", {
          rating: pair[0],
          conversation_id: state.conversationId || "",
          question: state.lastQuestion.slice(0, 2000),
          answer_kind: reply.kind,
          procedure_code: reply.citation ? reply.citation.procedure_code : null
        }).then(function (data) {
          box.replaceChildren(el("span", { className: "cb-rating-done", role: "status" },
            (data.text || "Cảm ơn bạn đã đánh giá!") + " (" + pair[1] + ")"));
        }, function (error) {
          Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = false; });
          addMessage("bot", error.message, "cb-error");
        });
      });
      box.appendChild(button);
    });
    log.appendChild(box);
    scrollDown();
  }

  function showReply(reply) {
    var item = addMessage("bot", reply.text, "cb-kind-" + reply.kind);
    item.setAttribute("data-kind", reply.kind);
    if (reply.citation) {
      var url = safeUrl(reply.citation.url);
      if (url) {
        var cite = el("p", { className: "cb-citation" });
        cite.appendChild(el("span", {}, "Xem thủ tục: "));
        cite.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
          reply.citation.procedure_name + " (" + reply.citation.procedure_code + ")"));
        item.appendChild(cite);
      }
    }
    if (reply.buttons && reply.buttons.length) {
      var choices = el("div", { className: "cb-choices", role: "group", "aria-label": "Chọn thủ tục" });
      reply.buttons.forEach(function (choice) {
        var button = el("button", { type: "button", className: "cb-chip cb-choice",
          "data-procedure-code": choice.procedure_code }, choice.label);
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(choices.querySelectorAll("button"), function (b) { b.disabled = true; });
          ask(choice.label, choice.procedure_code);
        });
        choices.appendChild(button);
      });
      item.appendChild(choices);
    }
    if (RATEABLE[reply.kind]) { addRating(reply); } else { removeRatings(); }
    scrollDown();
  }

  function setBusy(busy) {
    state.busy = busy;
    send.disabled = busy;
    panel.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function ask(message, procedureCode) {
    if (state.busy) { return; }
    addMessage("user", message);
    if (!procedureCode) { state.lastQuestion = message; }
    setBusy(true);
    var typing = addMessage("bot", "Trợ lý đang trả lời…", "cb-typing");
    post("/api/chat", {
      message: message,
      conversation_id: state.conversationId,
      procedure_code: procedureCode || null
    }).then(function (reply) {
      typing.remove();
      state.conversationId = reply.conversation_id;
      try { window.sessionStorage.setItem(STORAGE_KEY, reply.conversation_id); } catch (e) { /* ignore */ }
      state.lastReply = reply;
      showReply(reply);
    }, function (error) {
      typing.remove();
      addMessage("bot", error.message, "cb-error");
    }).then(function () {
      setBusy(false);
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var message = input.value.trim();
    if (!message) {
      addMessage("bot", "Vui lòng nhập câu hỏi của bạn.", "cb-error");
      input.focus();
      return;
    }
    input.value = "";
    ask(message, null);
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  // ---- callback and complaint forms ------------------------------------------------

  var formCounter = 0;

  function field(labelText, control) {
    var id = "cb-field-" + (++formCounter);
    control.id = id;
    var wrap = el("div", { className: "cb-field" });
    wrap.append(el("label", { for: id }, labelText), control);
    return wrap;
  }

  function openForm(titleText, fields, submitText, path, build) {
    formArea.replaceChildren();
    var box = el("form", { className: "cb-side-form", "aria-label": titleText });
    box.appendChild(el("h3", {}, titleText));
    fields.forEach(function (f) { box.appendChild(f); });
    var status = el("p", { className: "cb-form-status", role: "status" });
    var actions = el("div", { className: "cb-form-actions" });
    var submit = el("button", { type: "submit", className: "cb-send" }, submitText);
    var cancel = el("button", { type: "button", className: "cb-tool" }, "Hủy");
    actions.append(submit, cancel);
    box.append(status, actions);
    cancel.addEventListener("click", closeForm);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.stopPropagation(); closeForm(); }
    });
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      submit.disabled = true;
      status.textContent = "Đang gửi…";
      post(path, build()).then(function (data) {
        closeForm();
        addMessage("bot", data.text, "cb-ticket").setAttribute("data-ticket", data.ticket);
      }, function (error) {
        submit.disabled = false;
        status.textContent = error.message;
      });
    });
    formArea.appendChild(box);
    var first = box.querySelector("input, textarea, select");
    if (first) { first.focus(); }
  }

  function closeForm() {
    formArea.replaceChildren();
    input.focus();
  }

  askPerson.addEventListener("click", function () {
    var name = el("input", { type: "text", maxlength: "120", autocomplete: "name" });
    var phone = el("input", { type: "tel", maxlength: "32", autocomplete: "tel", required: "",
      inputmode: "tel" });
    var question = el("textarea", { rows: "3", maxlength: "2000", required: "" });
    question.value = state.lastQuestion;
    openForm("Đề nghị cán bộ gọi lại", [
      field("Họ tên (không bắt buộc)", name),
      field("Số điện thoại", phone),
      field("Nội dung cần hỗ trợ", question)
    ], "Gửi yêu cầu", "/api/callbacks", function () {
      return { name: name.value, phone: phone.value, question: question.value,
        conversation_id: state.conversationId || "" };
    });
  });

  complain.addEventListener("click", function () {
    var category = el("select", {});
    [["complaint", "Phản ánh"], ["suggestion", "Kiến nghị"]].forEach(function (pair) {
      category.appendChild(el("option", { value: pair[0] }, pair[1]));
    });
    var content = el("textarea", { rows: "4", maxlength: "4000", required: "" });
    var name = el("input", { type: "text", maxlength: "120", autocomplete: "name" });
    var phone = el("input", { type: "tel", maxlength: "32", autocomplete: "tel", inputmode: "tel" });
    openForm("Gửi phản ánh, kiến nghị", [
      field("Loại", category),
      field("Nội dung", content),
      field("Họ tên (không bắt buộc)", name),
      field("Số điện thoại (không bắt buộc)", phone)
    ], "Gửi", "/api/complaints", function () {
      return { category: category.value, content: content.value, name: name.value, phone: phone.value,
        conversation_id: state.conversationId || "" };
    });
  });

  // ---- opening, closing, larger text -------------------------------------------------

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    if (!log.childElementCount) {
      addMessage("bot", "Xin chào! Tôi là trợ lý ảo về thủ tục hành chính. Bạn có thể hỏi về giấy tờ, lệ phí, " +
        "thời hạn, nơi nộp hồ sơ, hoặc tra cứu tình trạng hồ sơ bằng mã hồ sơ.");
    }
    input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", openPanel);
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closePanel(); }
  });
  largeText.addEventListener("click", function () {
    var on = !root.classList.contains("cb-large");
    root.classList.toggle("cb-large", on);
    largeText.setAttribute("aria-pressed", on ? "true" : "false");
  });

  function mount() {
    document.body.appendChild(root);
    if (openAtLoad) { openPanel(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();

// Element Plus for every page: the components the frame, the sign-in, the grid worker's app and the citizen's pages
// use, each with its own CSS (not the whole theme: issue #14, a phone on "Fast 3G" downloads this before anything
// shows). Desk-only components come with the desk pages (desk.js). A page that starts using another `el-*`
// component adds it to the kit its route loads. A child component (ElRadioButton, ElOption...) is installed by its
// parent's installer (ElRadio, ElSelect...), so the parent must be in the list.
import {
  ElAlert, ElButton, ElCard, ElCheckbox, ElEmpty, ElForm, ElFormItem, ElIcon, ElImage, ElInput, ElMessage,
  ElMessageBox, ElOption, ElOptionGroup, ElRadio, ElRadioButton, ElRadioGroup, ElResult, ElSelect, ElTag,
  provideGlobalConfig,
} from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';

/** Installs the kit on the application (with the Chinese locale, as ElementPlus's own installer would). */
export function install(app) {
  provideGlobalConfig({ locale: zhCn }, app, true);
  for (const component of [ElAlert, ElButton, ElCard, ElCheckbox, ElEmpty, ElForm, ElFormItem, ElIcon, ElImage,
    ElInput, ElOption, ElOptionGroup, ElRadio, ElRadioButton, ElRadioGroup, ElResult, ElSelect, ElTag,
    ElMessage, ElMessageBox]) app.use(component);
}
